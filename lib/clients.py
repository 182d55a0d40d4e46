"""Who is asking: the one place that decides a request's client address, for every limit
keyed on it (sign-in throttling, password resets, links sent again).

Behind a reverse proxy every request's REMOTE_ADDR is the proxy. X-Forwarded-For names the
client, but a client can write that header too, so it is read only when the request comes
from a proxy listed in TRUSTED_PROXIES, and then from the right: each trusted proxy appends
the address it saw, so the right-most address that is not itself a trusted proxy is the one
nobody but a trusted proxy wrote.
"""

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    """TRUSTED_PROXIES as networks (a bare address is a /32 or /128); raises ValueError on
    anything else, so a typo fails at boot (settings call this)."""
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def _address(raw: str) -> Address | None:
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is the same client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: list[Network]) -> bool:
    return any(address in network for network in proxies)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as text, or None when REMOTE_ADDR is not an address (a Unix
    socket). Also django-axes' AXES_CLIENT_IP_CALLABLE."""
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    proxies = parse_networks(settings.TRUSTED_PROXIES)
    if not _trusted(remote, proxies):
        return str(remote)
    client = remote
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:
            # Not written by a trusted proxy, which always appends the address it saw: stop
            # at the last address a trusted proxy vouched for.
            break
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)
