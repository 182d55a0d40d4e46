from django.urls import path

from risks import checkin_views

app_name = "risks"

urlpatterns = [
    # The missed-meetings check-in (risks/checkin_views.py).
    path("checkin/<str:token>/", checkin_views.checkin, name="checkin"),
    path("checkin/<str:token>/done/", checkin_views.checkin_done, name="checkin_done"),
]
