"""Every response carries a Content-Security-Policy that allows scripts and styles from the
site only (no 'unsafe-inline'), and nothing the project writes needs more: no inline script,
style block, style attribute, event handler or javascript: URL in the templates or in HTML
built in Python."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
APPS = ("programmes", "matching", "surveys", "notifications", "health", "demo", "mentoring", "lib")

INLINE = {
    # A <script> without src runs inline; json_script's data block is written by a filter.
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I),
    "style block": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I | re.S),
    "event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S),
    "javascript: URL": re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I),
}


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.parametrize("url", [reverse("home"), reverse("login"), reverse("admin:login")])
def test_it_sends_the_policy(client: Client, db: None, url: str) -> None:
    response = client.get(url)

    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_it_sends_the_policy_on_an_error_page_too(client: Client, db: None) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert _policy(response)["script-src"] == ["'self'"]


def _findings(path: Path) -> list[tuple[str, str, str]]:
    """(file, what, the offending text) for each inline script, style or handler in it."""
    text = path.read_text()
    return [
        (path.name, what, match.group(0)[:80])
        for what, pattern in INLINE.items()
        for match in pattern.finditer(text)
    ]


def test_no_template_needs_unsafe_inline() -> None:
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 40

    assert [finding for path in templates for finding in _findings(path)] == []


def test_no_html_built_in_python_needs_unsafe_inline() -> None:
    sources = [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    ]

    assert [finding for path in sources for finding in _findings(path)] == []


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '<script>alert(1)</script><script src="/static/a.js"></script><style></style>'
        '<p style="x">'
        '<button type="button"\n onclick="go()">'
        '<a href="javascript:go()">'
    )

    found = [what for _, what, _ in _findings(page)]

    assert found == [
        "inline script",
        "style block",
        "style attribute",
        "event handler",
        "javascript: URL",
    ]
