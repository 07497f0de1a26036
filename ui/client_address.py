"""The address a request really came from, trusting forwarding headers only from proxies
the deployment names.

A client that reaches the app directly can write any `X-Forwarded-For` it likes, so the
header counts only when the peer (the TCP connection's other end) is a trusted proxy. Each
trusted proxy appends the address it saw to the header's end, so walking it from the right,
skipping trusted proxies, the first address left is the one the nearest trusted proxy saw:
the client. Whatever a client wrote itself sits to the left of that and is ignored.

`STUDIO_TRUSTED_PROXIES` lists the proxies (addresses or CIDRs, comma-separated). When unset
on a Hugging Face Space (SPACE_ID set), the Space's own proxy is trusted: it reaches the app
from a private address (10.x), and Hugging Face does not publish a narrower range, so the
private and loopback ranges are the default there. Elsewhere nothing is trusted by default.
app.py hands the same list to uvicorn (FORWARDED_ALLOW_IPS), which applies the same rule to
the address it reports, so both agree.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """Settings.trusted_proxies (already checked by Settings.from_env) as networks."""
    return tuple(ipaddress.ip_network(item, strict=False) for item in proxies)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5000"
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: object, proxies: Iterable[Network]) -> bool:
    return any(address in network for network in proxies)  # type: ignore[operator]


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: tuple[str, ...]) -> str | None:
    """The client's address: the right-most `X-Forwarded-For` entry that is not a trusted
    proxy, when the peer is one; otherwise the peer. `forwarded_for` holds every
    X-Forwarded-For header's value in order (a proxy may add a second header)."""
    proxies = networks(trusted)
    peer_address = _address(peer) if peer else None
    if peer_address is None or not proxies or not _trusted(peer_address, proxies):
        return str(peer_address) if peer_address is not None else peer
    entries = [entry for value in forwarded_for for entry in value.split(",")]
    for entry in reversed(entries):
        address = _address(entry)
        if address is None:
            # Garbage where an address should be: the chain cannot be followed further,
            # and nothing to its left can be believed.
            break
        if not _trusted(address, proxies):
            return str(address)
    return str(peer_address)
