import ipaddress

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from surveys.forms import ResendLinkForm
from surveys.services import link_request_create


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites
    # it, and no setting says there is one. Behind a proxy every request shares its address,
    # which makes the per-IP limit stricter, never looser.
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None  # e.g. a Unix socket; the per-address limit still applies


@require_http_methods(["GET", "POST"])
def resend_link(request: HttpRequest) -> HttpResponse:
    """Anyone may ask; the answer never says whether the address is known."""
    if request.method == "GET" and "sent" in request.GET:
        return render(request, "surveys/resend_link_sent.html")
    form = ResendLinkForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        link_request = link_request_create(
            email=form.cleaned_data["email"], ip_address=_client_ip(request)
        )
        if link_request.rate_limited:
            return render(request, "surveys/resend_link_sent.html", {"limited": True}, status=429)
        return redirect(reverse("surveys:resend_link") + "?sent=1")
    return render(request, "surveys/resend_link.html", {"form": form})
