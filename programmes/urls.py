from django.urls import path, register_converter

from programmes import checkin_views, meeting_views, pair_views, sponsor_views, views

app_name = "programmes"

register_converter(sponsor_views.MonthConverter, "yyyy_mm")

urlpatterns = [
    path("intake/<str:token>/", views.intake, name="intake"),
    path("intake/<str:token>/draft/", views.intake_draft, name="intake_draft"),
    path("intake/<str:token>/done/", views.intake_done, name="intake_done"),
    # The pair pages. A pair link names a participant, who may be in several pairs: each pair
    # has its own pages under /pair/<token>/<pair_id>/ (programmes/pair_access.py). Each name
    # also keeps its older path without the id, listed second (e-mails sent before still
    # open them): /pair/<token>/ is the chooser when several pairs are open, and the others
    # act on the participant's only open pair, or on the pair the session, note or story
    # they name belongs to. reverse() picks the path by the arguments it is given.
    *[
        path(f"pair/<str:token>/{pair_part}{route}", view, name=name)
        for route, view, name in (
            ("", pair_views.pair_page, "pair"),
            ("agreement/", pair_views.agreement, "pair_agreement"),
            ("notes/", pair_views.note_create, "pair_note_create"),
            ("notes/<int:note_id>/share/", pair_views.note_share, "pair_note_share"),
            ("stories/<int:story_id>/consent/", pair_views.story_consent, "pair_story_consent"),
            ("meetings/<int:meeting_id>/pulse/", pair_views.pulse_start, "pulse_start"),
            # Sessions and calendar files (programmes/meeting_views.py).
            ("meetings/new/", meeting_views.meeting_schedule, "meeting_schedule"),
            ("meetings/<int:meeting_id>/", meeting_views.meeting_edit, "meeting_edit"),
            ("meetings/<int:meeting_id>/invite.ics", meeting_views.meeting_ics, "meeting_ics"),
        )
        for pair_part in ("<int:pair_id>/", "")
    ],
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
