"""The audit trail (issue #18): every manager's and administrator's action that changes people's
situation or access, recorded once, append-only, with who, when, what and the programme.

A leaf app like notifications/: every app above records into it (programmes: grants, imports,
invitations, intake; matching: runs; risks: pauses, re-matches, endings, flags; notifications:
wording; reporting: exports), so it sits below them all. Its entry is django-auditlog's abstract log
entry (actor, record, changes, time; its manager and admin helpers too) extended with the event
and the programme; the admin that reads them is scoped to the reader's programmes, so it lives
in programmes/admin_audit.py.
"""
