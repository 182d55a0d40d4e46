"""Participant links sent again on request, by e-mail address.

The page must not reveal whether an address is known, so every valid request takes the same
path: the same queries, one row recorded, one task queued after commit. Only the task, in the
background, finds out whether there is anything to send.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone

from programmes.models import Person
from surveys import notices
from surveys.models import LinkRequest

logger = logging.getLogger(__name__)

# At most this many accepted requests per address, and per client IP, in any sliding window
# of RATE_WINDOW. A person who lost a link needs one, perhaps two; the per-IP limit stops one
# client from walking a list of addresses (and flooding inboxes) while leaving room for a few
# colleagues behind one office NAT. Refused attempts do not count towards the limit, so the
# window really slides: an hour after the first accepted request, one more is allowed.
MAX_PER_EMAIL = 3
MAX_PER_IP = 10
RATE_WINDOW = timedelta(hours=1)


def link_request_create(*, email: str, ip_address: str | None) -> LinkRequest:
    """Record a request for ``email`` (already validated and normalised by the form) and,
    unless it is over a limit, queue ``send_participant_links`` once the row is committed.

    Returns the request; ``rate_limited`` says whether it was refused. A refused attempt is
    saved only if it is the first refusal for this address or IP in the window: a repeat comes
    back unsaved (no pk), so hammering the page adds no rows.

    The limit applies the same way to known and unknown addresses. Concurrent requests from
    one IP can overshoot MAX_PER_IP by the number in flight; for a known address the person's
    row is locked, so the per-address limit (the one that protects an inbox) holds exactly on
    PostgreSQL.
    """
    now = timezone.now()
    with transaction.atomic():
        # The same query whether or not the address is known; matches the functional unique
        # index on LOWER(email).
        person = (
            Person.objects.select_for_update(no_key=True)
            .alias(email_lower=Lower("email"))
            .filter(email_lower=email)
            .order_by()
            .only("pk")
            .first()
        )
        by_key = Q(email=email)
        if ip_address:
            by_key |= Q(ip_address=ip_address)
        aggregates = {
            "email": Count("pk", filter=Q(email=email, rate_limited=False)),
            "refused": Count("pk", filter=Q(rate_limited=True)),
        }
        if ip_address:
            aggregates["ip"] = Count("pk", filter=Q(ip_address=ip_address, rate_limited=False))
        counts = LinkRequest.objects.filter(by_key, requested_at__gt=now - RATE_WINDOW).aggregate(
            **aggregates
        )
        link_request = LinkRequest(
            email=email, person=person, ip_address=ip_address or None, requested_at=now
        )
        if counts["email"] >= MAX_PER_EMAIL or counts.get("ip", 0) >= MAX_PER_IP:
            link_request.rate_limited = True
            if counts["refused"]:
                return link_request
            logger.info("Rate-limited a request for links from %s", ip_address or "an unknown IP")
        # The person was read just above; re-checking the foreign key would cost a query
        # only for known addresses.
        link_request.full_clean(exclude=["person"])
        link_request.save()
        if not link_request.rate_limited:
            # Asked for unknown addresses too (the send finds there is nothing to send), so
            # that neither the response time nor the rows written tell known addresses apart.
            notices.ask_participant_links(link_request)
    return link_request
