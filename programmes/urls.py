from django.urls import path

from programmes import views

app_name = "programmes"

urlpatterns = [
    path("intake/<str:token>/", views.intake, name="intake"),
]
