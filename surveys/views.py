from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from lib.clients import client_ip
from surveys.forms import ResendLinkForm
from surveys.services import link_request_create


@require_http_methods(["GET", "POST"])
def resend_link(request: HttpRequest) -> HttpResponse:
    """Anyone may ask; the answer never says whether the address is known."""
    if request.method == "GET" and "sent" in request.GET:
        return render(request, "surveys/resend_link_sent.html")
    form = ResendLinkForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        link_request = link_request_create(
            email=form.cleaned_data["email"], ip_address=client_ip(request)
        )
        if link_request.rate_limited:
            return render(request, "surveys/resend_link_sent.html", {"limited": True}, status=429)
        return redirect(reverse("surveys:resend_link") + "?sent=1")
    return render(request, "surveys/resend_link.html", {"form": form})
