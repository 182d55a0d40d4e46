from django.urls import path

from programmes import views

app_name = "programmes"

urlpatterns = [
    path("intake/<str:token>/", views.intake, name="intake"),
    path("intake/<str:token>/draft/", views.intake_draft, name="intake_draft"),
    path("intake/<str:token>/done/", views.intake_done, name="intake_done"),
]
