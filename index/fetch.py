"""Fetching a page someone else named (an /add link, a feed entry) without reaching internal addresses.

Every hop, the first and each redirect, is checked the same way: http(s) only, an allowed port, and a
host whose every address is globally routable (or allowed by KABAR_FETCH_ALLOW_PRIVATE). The request
then goes to the address that was checked, with the host name kept for the Host header and TLS, so a
second DNS answer cannot send it elsewhere. One deadline bounds the whole fetch, however slowly the
server drips its bytes.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 5
DEADLINE = 30.0  # seconds for the whole fetch, redirects included
READ_TIMEOUT = 10.0  # per read; the deadline is checked between reads, so a fetch ends by DEADLINE + this
CONNECT_TIMEOUT = 5.0
USER_AGENT = "KabarBot/0.1 (+news question answering)"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class FetchError(ValueError):
    """Why a URL was not fetched, in words fit for the user."""


@dataclass(frozen=True)
class FetchPolicy:
    """Which non-public addresses and which ports may be fetched. The default: public hosts, ports 80/443."""

    private: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()  # networks allowed on any port
    private_ports: frozenset[tuple[Address, int]] = frozenset()  # (address, port) pairs allowed
    all_private: bool = False
    ports: frozenset[int] | None = frozenset({80, 443})  # None: any port

    @classmethod
    def parse(cls, allow_private: Iterable[str] = (), ports: Iterable[str] = ("80", "443")) -> FetchPolicy:
        """From settings: allow_private items are "*", a network ("10.0.0.0/8", "127.0.0.1") or one
        address and port ("127.0.0.1:8080", "[::1]:8080"); ports are numbers or "*"."""
        networks, pairs, every = [], set(), False
        for item in (i.strip() for i in allow_private if i.strip()):
            if item == "*":
                every = True
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                host, _, port = item.rpartition(":")
                try:
                    pairs.add((ipaddress.ip_address(host.strip("[]")), int(port)))
                except ValueError:
                    raise ValueError(f"not an address, network or address:port: {item!r}") from None
        port_list = [p.strip() for p in ports if p.strip()]
        allowed_ports = None if "*" in port_list else frozenset(int(p) for p in port_list)
        return cls(tuple(networks), frozenset(pairs), every, allowed_ports)

    def allows(self, address: Address, port: int) -> bool:
        if (address, port) in self.private_ports:
            return True
        if self.ports is not None and port not in self.ports:
            return False
        inner = embedded_ipv4(address)
        public = address.is_global and (inner is None or inner.is_global) and address not in SITE_LOCAL
        return public or self.all_private or any(address in n for n in self.private)


SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, but routed internally where still in use
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("::/96"))


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64, IPv4-compatible): it must be
    public too, or a NAT64 gateway or tunnel would carry the request to an internal host."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if any(address in net for net in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0xFFFF_0000:  # ::ffff:0:a.b.c.d (IPv4-translated)
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


OPEN = FetchPolicy(all_private=True, ports=None)  # for tests and tools on a trusted network only


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    body: bytes
    content_type: str


def check_scheme(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        raise FetchError(f"That is not a valid URL: {url[:80]!r}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"Only http(s) URLs can be added, not {url[:80]!r}.")
    return url.strip()


def system_resolver(host: str, port: int) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"{host} could not be found ({error}).") from None


def checked_address(url: str, policy: FetchPolicy, resolve: Resolver) -> tuple[str, int]:
    """The address to connect to for `url`, after checking every address its host resolves to."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    try:
        literal = ipaddress.ip_address(host)
        found = [literal]
    except ValueError:
        found = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
    if not found:
        raise FetchError(f"{host} could not be found.")
    for address in found:  # one internal answer is enough to refuse: the next lookup might return it
        if not policy.allows(address, port):
            if policy.ports is not None and port not in policy.ports and address.is_global:
                raise FetchError(f"{url[:80]} uses port {port}; only {sorted(policy.ports)} are fetched.")
            raise FetchError(f"{url[:80]} points to an internal address ({address}); it is not fetched.")
    return str(found[0]), port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _pinned(url: str, address: str, port: int) -> tuple[str, dict[str, str], dict]:
    """The URL with the checked address as host, plus the Host header and TLS name of the original."""
    parts = urlsplit(url)
    name = parts.hostname or ""
    if not _is_ip(name):
        try:  # an internationalised name travels in its ASCII (IDNA) form
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise FetchError(f"{url[:80]} has a host name that cannot be used.") from None
    bracket = lambda h: f"[{h}]" if ":" in h else h  # noqa: E731 (IPv6 literals in URLs and Host)
    default = port == (443 if parts.scheme == "https" else 80)
    host_header = bracket(name) + ("" if default else f":{port}")
    target = urlunsplit((parts.scheme, f"{bracket(address)}:{port}", parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": name} if parts.scheme == "https" else {}
    return target, {"Host": host_header}, extensions


def fetch(
    url: str,
    policy: FetchPolicy,
    accept: tuple[str, ...],
    max_bytes: int,
    resolve: Resolver = system_resolver,
    deadline: float = DEADLINE,
) -> Fetched:
    """GET `url` under `policy`: every hop checked, at most MAX_REDIRECTS, `max_bytes`, `deadline` seconds."""
    import httpx  # not on the question path

    ends = time.monotonic() + deadline
    url = check_scheme(url)
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    with httpx.Client(follow_redirects=False, timeout=timeout, headers={"User-Agent": USER_AGENT}) as client:
        for _ in range(MAX_REDIRECTS + 1):
            if time.monotonic() > ends:
                raise FetchError(f"{url[:80]} took longer than {deadline:.0f} s.")
            address, port = checked_address(url, policy, resolve)
            target, headers, extensions = _pinned(url, address, port)
            try:
                with client.stream("GET", target, headers=headers, extensions=extensions) as response:
                    if not response.is_redirect:
                        return _read(url, response, accept, max_bytes, ends)
                    url = check_scheme(urljoin(url, response.headers.get("location", "")))
            except httpx.HTTPError as error:
                raise FetchError(f"Could not fetch {url[:80]}: {type(error).__name__}.") from error
    raise FetchError(f"{url[:80]} redirects more than {MAX_REDIRECTS} times.")


def _read(url: str, response: httpx.Response, accept: tuple[str, ...], max_bytes: int, ends: float) -> Fetched:
    if response.status_code >= 400:
        raise FetchError(f"{url} answered HTTP {response.status_code}.")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in accept:
        raise FetchError(f"{url} is {content_type or 'of unknown type'}, not a web page.")
    too_big = FetchError(f"{url} is larger than {max_bytes // 1024 // 1024} MB.")
    if int(response.headers.get("content-length") or 0) > max_bytes:
        raise too_big
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise too_big
        if time.monotonic() > ends:
            raise FetchError(f"{url[:80]} is too slow to send; gave up.")
    return Fetched(url, bytes(body), content_type)
