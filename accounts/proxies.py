"""The reverse proxies whose ``X-Forwarded-For`` and ``X-Request-ID`` are believed
(``KEYFAX_TRUSTED_PROXIES``).

One parser for the system check (``keyfax.E012``) and ``keyfax_site``'s
``ClientAddressMiddleware``, so they can never disagree on what an entry means: an entry the
check refuses is trusted nowhere.
"""

from __future__ import annotations

import ipaddress

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def trusted_proxy_networks(raw: object) -> tuple[list[IPNetwork], list[tuple[str, str]]]:
    """The networks in ``KEYFAX_TRUSTED_PROXIES``, and the refused entries with the reason.

    ``raw`` is a comma-separated string or a list of entries. An entry is an address
    (``10.0.0.7``, ``2001:db8::7``, meaning just that address) or a network in CIDR notation
    (``10.0.0.0/24``). Refused: anything else, a network with host bits set (``10.0.0.7/24``:
    which was meant?), a zone id (``fe80::1%eth0``), an IPv4-mapped IPv6 form (write the IPv4
    address; the site compares mapped peers as IPv4) and a network of every address
    (``0.0.0.0/0``, ``::/0``: any client could then write its own address).
    """
    entries = raw.split(",") if isinstance(raw, str) else list(raw or [])
    networks: list[IPNetwork] = []
    refused: list[tuple[str, str]] = []
    for entry in (str(item).strip() for item in entries):
        if not entry:
            continue
        if "%" in entry:
            refused.append((entry, "zone ids are not supported"))
            continue
        try:
            network = ipaddress.ip_network(entry)
        except ValueError as error:
            refused.append((entry, str(error)))
            continue
        if network.prefixlen == 0:
            refused.append((entry, "it would trust every address"))
        elif isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_IPV4_MAPPED):
            refused.append((entry, "write IPv4-mapped addresses as plain IPv4"))
        else:
            networks.append(network)
    return networks, refused
