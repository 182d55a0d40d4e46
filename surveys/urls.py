from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("link/", views.resend_link, name="resend_link"),
]
