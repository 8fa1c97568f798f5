"""HTTP health probes as events (logger "probe"): each check of a URL, on its own thread, becomes an Event that the
same rules match as log lines.

Fields, under `probe`: name, url (credentials redacted), method, status, duration_ms, ok, error (timeout, refused,
dns, tls, connection, status, body, container, internal), consecutive_failures, body (the JSON body; a body
nested too deep is not taken: body_refused says why), components (each "up" or "down", from ClipForge's or
Terminus's format, at most healthbody.MAX_COMPONENTS: components_dropped counts the rest), components_down (how
many), uptime and restarted (the body's `uptime` went down: the process started again).

One check is `check`; the probe's thread, which gives each check a deadline for the whole of it, is in
watch.py.

The client is urllib3 (already installed with docker-py): explicit connect and read timeouts, no retries and no
redirects (a probe reports what the endpoint answered), and exception classes that tell a timeout, a refusal, a
DNS failure and a TLS failure apart.
"""

from __future__ import annotations

import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    InsecureRequestWarning,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from logpipe.event import Event, Origin, lookup
from logpipe.redact import Redactor
from logpipe.sources.probes import healthbody
from logpipe.sources.probes.config import ProbeConfig

MAX_BODY = 256 * 1024  # bytes of body read; a health body is small, a runaway one must not fill memory
READINGS = "readings"  # the follower's queue item kind for probe, stats and disk events


class ContainerAddressError(Exception):
    """A probe's host names a container that has no address logpipe can reach (not running, no network, no
    published port), or no container at all."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a check connects: the URL to open, and the Host header the URL asked for (when rewritten)."""

    url: str
    host_header: str | None = None


Resolver = Callable[[str], Target]  # the probe's URL -> where to connect now


def direct(url: str) -> Target:
    return Target(url)


def pool_for(probe: ProbeConfig) -> urllib3.PoolManager:
    """The probe's connection pool: one connection kept, certificates checked against the system's CAs, or its
    ca_file's, or not at all (insecure_skip_verify). A TLS failure is what the probe then reports."""
    if probe.insecure_skip_verify:
        # asked for in the config: urllib3's warning on every unverified request would only repeat it
        urllib3.disable_warnings(InsecureRequestWarning)
        return urllib3.PoolManager(num_pools=2, maxsize=1, cert_reqs="CERT_NONE", assert_hostname=False)
    if probe.ca_file:
        return urllib3.PoolManager(num_pools=2, maxsize=1, cert_reqs="CERT_REQUIRED", ca_certs=probe.ca_file)
    return urllib3.PoolManager(num_pools=2, maxsize=1)


def redact_url(url: str) -> str:
    """The URL with its password and secret-looking query values replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostport}" if ":" in userinfo else f"***@{hostport}"
    query = parts.query
    if query:
        redactor = Redactor()
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        query = urllib.parse.urlencode(
            [(key, "***" if redactor.is_sensitive_name(key) else value) for key, value in pairs], safe="*"
        )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@dataclass(slots=True)
class ProbeMemory:
    """What a probe remembers between checks: failures in a row, and the last uptime its body reported."""

    consecutive_failures: int = 0
    uptime: float | None = None


def check(
    probe: ProbeConfig,
    pool: urllib3.PoolManager,
    memory: ProbeMemory,
    resolve: Resolver = direct,
    clock: Callable[[], int] = time.time_ns,
) -> Event:
    """One check of the probe's URL, as an event. Never raises for what the endpoint or network does."""
    started_ns = clock()
    fields: dict[str, Any] = {"name": probe.label, "url": redact_url(probe.url), "method": probe.method}
    start = time.perf_counter()
    body: Any = None
    error: str | None = None
    detail = ""
    try:
        target = resolve(probe.url)
        headers = {"User-Agent": "logpipe-probe"}
        if target.host_header is not None:
            headers["Host"] = target.host_header
        timeout = probe.timeout / 1e9
        response = _connection(pool, probe.url, target).urlopen(
            probe.method,
            urllib3.util.parse_url(target.url).request_uri,
            headers=headers,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=False,
            redirect=False,
            preload_content=False,
            release_conn=False,
        )
        try:
            raw = _read_capped(response, start + timeout)
        finally:
            response.release_conn()
        fields["status"] = response.status
        body = _json_body(raw)
        refused = healthbody.refused(body)
        if refused is not None:  # from outside: taken only in the shape every output can write
            body, fields["body_refused"] = None, refused
        if (probe.expect_status and response.status not in probe.expect_status) or (
            not probe.expect_status and not 200 <= response.status < 300
        ):
            error, detail = "status", f"HTTP {response.status}"
        else:
            failed = _failed_body_conditions(probe.body, body)
            if failed:
                error, detail = "body", failed
    except ContainerAddressError as problem:
        error, detail = "container", str(problem)
    except (HTTPError, OSError) as problem:
        error, detail = classify(problem)
    fields["duration_ms"] = round((time.perf_counter() - start) * 1000, 1)
    fields["ok"] = error is None
    if error is not None:
        fields["error"] = error
        fields["detail"] = detail
    memory.consecutive_failures = 0 if error is None else memory.consecutive_failures + 1
    fields["consecutive_failures"] = memory.consecutive_failures
    if body is not None:
        _describe_body(fields, body, memory)
    return probe_event(started_ns, fields)


def _connection(pool: urllib3.PoolManager, url: str, target: Target) -> urllib3.HTTPConnectionPool:
    """The pool for the target; an https URL whose host was rewritten to a container's address still sends its
    host's name in the TLS handshake (SNI) and checks the certificate against that name, not the address."""
    if target.host_header is not None and target.url.startswith("https:"):
        name = urllib.parse.urlsplit(url).hostname
        return pool.connection_from_url(target.url, pool_kwargs={"server_hostname": name})
    return pool.connection_from_url(target.url)


def classify(problem: BaseException) -> tuple[str, str]:
    """(probe.error, a readable detail) for what urllib3 or the socket raised."""
    if isinstance(problem, MaxRetryError) and problem.reason is not None:
        problem = problem.reason
    detail = str(problem)
    # NameResolutionError and NewConnectionError subclass ConnectTimeoutError in urllib3 2: most specific first
    if isinstance(problem, NameResolutionError) or isinstance(problem.__context__, socket.gaierror):
        return "dns", detail
    if isinstance(problem, (SSLError, ssl.SSLError)):
        return "tls", detail
    if isinstance(problem, ConnectionRefusedError) or (
        isinstance(problem, NewConnectionError) and isinstance(problem.__context__, ConnectionRefusedError)
    ):
        return "refused", detail
    if isinstance(problem, (ConnectTimeoutError, ReadTimeoutError, TimeoutError)):
        return "timeout", detail
    if isinstance(problem, ProtocolError) and isinstance(problem.__context__, TimeoutError):
        return "timeout", detail
    return "connection", detail


def _read_capped(response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
    """The body, at most MAX_BODY bytes; a body still trickling in at the deadline is a timeout."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY:
        chunk = response.read1(min(65536, MAX_BODY - size))  # what has come: a trickle reaches the check below
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if time.perf_counter() > deadline:
            raise TimeoutError("the body was still arriving when the timeout passed")
    return b"".join(chunks)


def _json_body(raw: bytes) -> Any:
    if not raw or raw.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _failed_body_conditions(expected: Mapping[str, Any], body: Any) -> str:
    """'' when each dotted path of the body has its expected value, else the first that does not."""
    for path, wanted in expected.items():
        actual = lookup(body, path) if isinstance(body, Mapping) else None
        if actual != wanted:
            return f"body {path} is {actual!r}, expected {wanted!r}"
    return ""


def _describe_body(fields: dict[str, Any], body: Any, memory: ProbeMemory) -> None:
    fields["body"] = body
    parts = healthbody.components(body)
    if parts:
        fields["components"] = parts
        fields["components_down"] = sum(state == "down" for state in parts.values())
        dropped = len(healthbody.all_components(body)) - len(parts)
        if dropped:
            fields["components_dropped"] = dropped
    state = healthbody.overall(body)
    if state is not None:
        fields["health"] = state
    uptime = healthbody.uptime_seconds(body)
    if uptime is not None:
        fields["uptime"] = uptime
        fields["restarted"] = memory.uptime is not None and uptime < memory.uptime
        memory.uptime = uptime


def probe_event(time_ns: int, fields: dict[str, Any]) -> Event:
    """The event of one check, from its fields (name, ok, status or error and detail, duration_ms, ...)."""
    name = fields["name"]
    if fields["ok"]:
        level = "warning" if fields.get("components_down") else "info"
        message = f"probe {name}: HTTP {fields['status']} in {fields['duration_ms']:g} ms"
        if fields.get("components_down"):
            down = sorted(part for part, state in fields["components"].items() if state == "down")
            message += f"; down: {', '.join(down)}"
    else:
        level = "error"
        message = f"probe {name} failed ({fields['error']}): {fields['detail']}"
    record = {"probe": fields}
    return Event(
        time_ns,
        level,
        message,
        "probe",
        record,
        Origin("probe", name),
        orjson.dumps(record, default=str).decode(),
        "probe",
    )
