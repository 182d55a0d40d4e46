from django.urls import path

from surveys import pulse_views, views

app_name = "surveys"

urlpatterns = [
    path("link/", views.resend_link, name="resend_link"),
    path("pulse/<str:token>/", pulse_views.pulse, name="pulse"),
    path("pulse/<str:token>/thanks/", pulse_views.pulse_thanks, name="pulse_thanks"),
]
