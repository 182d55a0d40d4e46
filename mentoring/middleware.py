"""Refuse, with a 400 and a short page, any request whose path, query string or form fields
hold a NUL character or bytes that are not UTF-8: no page can use them (PostgreSQL refuses a
NUL in any text, so a filter or form holding one was a server error), and a person never
types them. File contents are left alone; only the fields around them are checked."""

from collections.abc import Callable
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.html import escape

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# What a multipart field's undecodable bytes become once Django has read them.
REPLACEMENT = "\ufffd"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bad request</title></head>
<body><h1>This address or form could not be read</h1>
<p>{reason} Go back, check what you typed or follow the link from your e-mail again.</p>
</body></html>"""


def _clean_text(text: str) -> bool:
    return "\x00" not in text


def _clean_pairs(raw: bytes) -> bool:
    """Whether url-encoded ``raw`` (a query string or a form body) decodes to UTF-8 keys and
    values without a NUL."""
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return False
    return all(_clean_text(key) and _clean_text(value) for key, value in pairs)


def _problem(request: HttpRequest) -> str:
    # Django has already decoded the path (bytes that are not UTF-8 stay percent-encoded), so
    # any letter of any script is text here; only a NUL is not.
    if not _clean_text(request.path_info):
        return "The address holds an invisible control character."
    query = request.META.get("QUERY_STRING", "")
    try:
        raw_query = query.encode("latin-1")
    except UnicodeEncodeError:
        raw_query = query.encode("utf-8")
    if not _clean_pairs(raw_query):
        return "The address holds characters that are not text."
    if request.method != "POST":
        return ""
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type == URLENCODED:
        if not _clean_pairs(request.body):
            return "The form holds characters that are not text."
    elif content_type == MULTIPART:
        try:
            fields = list(request.POST.lists())
        except MultiPartParserError:
            return "The form could not be read."
        for key, values in fields:
            if any(not _clean_text(text) or REPLACEMENT in text for text in (key, *values)):
                return "The form holds characters that are not text."
    return ""


class RefuseUnreadableInput:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reason = _problem(request)
        if reason:
            return HttpResponseBadRequest(PAGE.format(reason=escape(reason)))
        return self.get_response(request)
