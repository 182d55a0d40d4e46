from django.urls import path, register_converter

from programmes import checkin_views, meeting_views, pair_views, sponsor_views, views

app_name = "programmes"

register_converter(sponsor_views.MonthConverter, "yyyy_mm")

urlpatterns = [
    path("intake/<str:token>/", views.intake, name="intake"),
    path("intake/<str:token>/draft/", views.intake_draft, name="intake_draft"),
    path("intake/<str:token>/done/", views.intake_done, name="intake_done"),
    # The pair page, agreement and notes (programmes/pair_views.py) go below this line.
    path("pair/<str:token>/", pair_views.pair_page, name="pair"),
    path("pair/<str:token>/agreement/", pair_views.agreement, name="pair_agreement"),
    path("pair/<str:token>/notes/", pair_views.note_create, name="pair_note_create"),
    path(
        "pair/<str:token>/notes/<int:note_id>/share/",
        pair_views.note_share,
        name="pair_note_share",
    ),
    path(
        "pair/<str:token>/stories/<int:story_id>/consent/",
        pair_views.story_consent,
        name="pair_story_consent",
    ),
    path(
        "pair/<str:token>/meetings/<int:meeting_id>/pulse/",
        pair_views.pulse_start,
        name="pulse_start",
    ),
    # Sessions and calendar files (programmes/meeting_views.py) go below this line.
    path(
        "pair/<str:token>/meetings/new/",
        meeting_views.meeting_schedule,
        name="meeting_schedule",
    ),
    path(
        "pair/<str:token>/meetings/<int:meeting_id>/",
        meeting_views.meeting_edit,
        name="meeting_edit",
    ),
    path(
        "pair/<str:token>/meetings/<int:meeting_id>/invite.ics",
        meeting_views.meeting_ics,
        name="meeting_ics",
    ),
    # The missed-meetings check-in (programmes/checkin_views.py).
    path("checkin/<str:token>/", checkin_views.checkin, name="checkin"),
    path("checkin/<str:token>/done/", checkin_views.checkin_done, name="checkin_done"),
    # The sponsors' status pages (programmes/sponsor_views.py).
    path("sponsor/", sponsor_views.sponsor_index, name="sponsor_index"),
    path("sponsor/<slug:slug>/", sponsor_views.sponsor_programme, name="sponsor_programme"),
    path(
        "sponsor/<slug:slug>/<yyyy_mm:month>/",
        sponsor_views.sponsor_status,
        name="sponsor_status",
    ),
    path(
        "sponsor/<slug:slug>/<yyyy_mm:month>/figures.csv",
        sponsor_views.sponsor_figures_csv,
        name="sponsor_figures_csv",
    ),
    path(
        "sponsor/<slug:slug>/charts/<str:kpi>.svg",
        sponsor_views.sponsor_chart,
        name="sponsor_chart",
    ),
]
