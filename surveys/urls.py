from django.urls import path

from surveys import feedback_views, pulse_views, views

app_name = "surveys"

urlpatterns = [
    path("link/", views.resend_link, name="resend_link"),
    path("pulse/<str:token>/", pulse_views.pulse, name="pulse"),
    path("pulse/<str:token>/thanks/", pulse_views.pulse_thanks, name="pulse_thanks"),
    path("feedback/<str:token>/", feedback_views.feedback, name="feedback"),
    path("feedback/<str:token>/thanks/", feedback_views.feedback_thanks, name="feedback_thanks"),
]
