from django.http import HttpRequest, HttpResponse


def resend_link(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError("the resend page is being built")
