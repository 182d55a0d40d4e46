"""The client address every limit is keyed on: REMOTE_ADDR, unless that is a trusted proxy,
then the right-most X-Forwarded-For address that is not itself a trusted proxy."""

import pytest
from django.test import RequestFactory

from lib.clients import client_ip, parse_networks


def request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture
def proxies(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]


def test_it_is_remote_addr_when_no_proxy_is_trusted(settings) -> None:
    settings.TRUSTED_PROXIES = []

    assert client_ip(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_it_ignores_forwarded_for_from_an_untrusted_address(proxies) -> None:
    assert client_ip(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_it_reads_the_forwarded_client_from_a_trusted_proxy(proxies) -> None:
    assert client_ip(request("10.0.0.2", "198.51.100.1")) == "198.51.100.1"


def test_it_takes_the_right_most_address_no_trusted_proxy_wrote(proxies) -> None:
    # The client wrote the first two itself; the proxies appended the rest.
    chain = "1.1.1.1, 2.2.2.2, 198.51.100.1, 192.0.2.1, 10.0.0.9"

    assert client_ip(request("10.0.0.2", chain)) == "198.51.100.1"


def test_it_stops_at_a_value_no_proxy_would_write(proxies) -> None:
    assert client_ip(request("10.0.0.2", "198.51.100.1, not-an-address")) == "10.0.0.2"
    assert client_ip(request("10.0.0.2", "")) == "10.0.0.2"


def test_a_chain_of_trusted_proxies_only_is_the_left_most_proxy(proxies) -> None:
    assert client_ip(request("10.0.0.2", "10.0.0.3, 192.0.2.1")) == "10.0.0.3"


def test_it_handles_ipv6_and_ipv4_mapped_addresses(settings) -> None:
    settings.TRUSTED_PROXIES = ["2001:db8::/32"]

    assert client_ip(request("2001:db8::1", "2001:db8:ffff::1, 2a00::5")) == "2a00::5"
    assert client_ip(request("::ffff:203.0.113.7")) == "203.0.113.7"


def test_it_is_none_when_remote_addr_is_not_an_address(settings) -> None:
    settings.TRUSTED_PROXIES = []

    assert client_ip(request("unix:/run/gunicorn.sock")) is None


def test_a_bad_proxy_list_is_refused() -> None:
    assert [str(n) for n in parse_networks(["10.0.0.1", " 10.1.0.0/16 ", ""])] == [
        "10.0.0.1/32",
        "10.1.0.0/16",
    ]
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        parse_networks(["proxy.internal"])
