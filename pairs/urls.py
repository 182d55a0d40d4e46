from django.urls import path

from pairs import meeting_views, views
from pairs.sections import PARTS

app_name = "pairs"

# The pair pages. A pair link names a participant, who may be in several pairs: each pair has
# its own pages under /pair/<token>/<pair_id>/ (pairs/access.py). Each name also keeps its
# older path without the id, listed second (e-mails sent before still open them):
# /pair/<token>/ is the chooser when several pairs are open, and the others act on the
# participant's only open pair, or on the pair the session, note or story they name belongs
# to. reverse() picks the path by the arguments it is given.
urlpatterns = [
    path(f"pair/<str:token>/{pair_part}{route}", view, name=name)
    for route, view, name in (
        ("", views.pair_page, "pair"),
        ("agreement/", views.agreement, "pair_agreement"),
        ("notes/", views.note_create, "pair_note_create"),
        ("notes/<int:note_id>/share/", views.note_share, "pair_note_share"),
        ("meetings/<int:meeting_id>/pulse/", views.pulse_start, "pulse_start"),
        # Sessions and calendar files (pairs/meeting_views.py).
        ("meetings/new/", meeting_views.meeting_schedule, "meeting_schedule"),
        ("meetings/<int:meeting_id>/", meeting_views.meeting_edit, "meeting_edit"),
        ("meetings/<int:meeting_id>/invite.ics", meeting_views.meeting_ics, "meeting_ics"),
        # The other apps' pages under the pair link (pairs/sections.py).
        *(route for part in PARTS for route in part.routes),
    )
    for pair_part in ("<int:pair_id>/", "")
]
