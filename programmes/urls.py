from django.urls import path

from programmes import views

app_name = "programmes"

urlpatterns = [
    path("intake/<str:token>/", views.intake, name="intake"),
    path("intake/<str:token>/draft/", views.intake_draft, name="intake_draft"),
    path("intake/<str:token>/done/", views.intake_done, name="intake_done"),
    # The pair page, agreement and notes (programmes/pair_views.py) go below this line.
    # Sessions and calendar files (programmes/meeting_views.py) go below this line.
]
