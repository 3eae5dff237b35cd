"""Public reads (contract §4: no token): every PUBLIC GET with a JSON answer, except the health
and metrics probes, is cached and bounded here, once for every service (shared/web/http.py applies it).

- Cached: the answer carries a strong `ETag` (a hash of its JSON body) and `Cache-Control:
  public, max-age=SPC_PUBLIC_MAX_AGE` (30 s by default); a request whose `If-None-Match` names
  the current ETag is answered 304 with no body.
- Bounded: the lists' pages are bounded by their query schemas (limit ≤ 500, offset ≤ 100,000),
  and each client may make SPC_PUBLIC_RATE_PER_MINUTE requests a minute (120 by default; 0: no
  limit) to each service process: a token bucket in memory, 429 `rate_limited` with Retry-After
  past it. The client is the remote address, or with SPC_TRUST_FORWARDED=true (only behind a
  proxy that appends to it) the address the proxy wrote last in X-Forwarded-For
  (SPC_FORWARDED_HOPS proxies of the operators' own: the one that many from the right)."""

import hashlib
import math
import os
import time

from nameko.extensions import SharedExtension

from ..core.errors import DomainError

DEFAULT_MAX_AGE = 30
DEFAULT_RATE_PER_MINUTE = 120
DEFAULT_AUTH_FAILURES_PER_MINUTE = 10  # bad or missing staff tokens a client may send (SPC_AUTH_FAILURES_PER_MINUTE)
MAX_CLIENTS = 10_000  # buckets kept in memory; idle ones (full again) are dropped first


class RateLimited(DomainError):
    """This client made more public requests to this service in the last minute than it may
    (SPC_PUBLIC_RATE_PER_MINUTE): retry after Retry-After seconds."""

    code = "rate_limited"
    retry_after = 1


class RateLimiter:
    """A token bucket per client: `rate_per_minute` requests, refilled continuously; a client may
    spend a whole minute's worth at once. `clock` (seconds, monotonic) is injected for the tests."""

    def __init__(self, rate_per_minute, clock=time.monotonic, max_clients=MAX_CLIENTS):
        self.capacity, self.per_second = rate_per_minute, rate_per_minute / 60.0
        self.clock, self.max_clients = clock, max_clients
        self.buckets = {}  # client -> (tokens, when they were counted)

    def wait_seconds(self, client):
        """Take one token for `client`: 0 when it may go on, else the seconds until it may."""
        if self.capacity <= 0:
            return 0
        now = self.clock()
        tokens, then = self.buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.per_second)
        if tokens < 1:
            self.buckets[client] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.per_second))
        self.buckets[client] = (tokens - 1, now)
        if len(self.buckets) > self.max_clients:
            self._forget(now)
        return 0

    def blocked_for(self, client):
        """Seconds until `client` has a token again (0: it has one), taking none."""
        if self.capacity <= 0 or client not in self.buckets:
            return 0
        tokens, then = self.buckets[client]
        tokens = min(self.capacity, tokens + (self.clock() - then) * self.per_second)
        return 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.per_second))

    def _forget(self, now):
        """Drop the buckets full again (idle for a minute), then, if still too many, the oldest."""
        full_after = self.capacity / self.per_second
        self.buckets = {c: b for c, b in self.buckets.items() if now - b[1] < full_after}
        while len(self.buckets) > self.max_clients:
            del self.buckets[min(self.buckets, key=lambda c: self.buckets[c][1])]


def etag_of(body: bytes):
    """A strong ETag: the same JSON body, byte for byte, has the same tag."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(if_none_match, etag):
    """Whether an If-None-Match header names `etag` (or is `*`); weak tags compare equal to
    their strong form, as RFC 9110 asks for If-None-Match."""
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or any((t[2:] if t.startswith("W/") else t) == etag for t in tags)


def client_of(remote_addr, forwarded_for, trust_forwarded, hops=1):
    """Who is counted: the peer, or when X-Forwarded-For is trusted, the address the nearest
    proxies wrote there: the `hops`-th from the right (each proxy appends the peer it saw; the
    addresses to its left are the client's own words, which it could make up to dodge a limit or
    to get another client refused)."""
    if trust_forwarded and forwarded_for:
        written = [a.strip() for a in forwarded_for.split(",") if a.strip()]
        if written:
            return written[-min(hops, len(written))]
    return remote_addr or "unknown"


class PublicReads(SharedExtension):
    """The public reads' settings and rate limiter of one container (so: per service process),
    read from the environment in setup()."""

    def setup(self):
        environ = self.container.config.get("ENV", os.environ)
        self.max_age = _setting(environ, "SPC_PUBLIC_MAX_AGE", DEFAULT_MAX_AGE)
        self.trust_forwarded = (environ.get("SPC_TRUST_FORWARDED") or "").lower() == "true"
        # how many proxies of the operators' own stand in front (each appends to X-Forwarded-For)
        self.hops = max(1, _setting(environ, "SPC_FORWARDED_HOPS", 1))
        self.limiter = RateLimiter(_setting(environ, "SPC_PUBLIC_RATE_PER_MINUTE", DEFAULT_RATE_PER_MINUTE))
        # failed staff authentications: a client that spent its bound is answered 429 for every
        # token, good or bad, until its bucket refills (else a good guess would show as a 200)
        self.failures = RateLimiter(_setting(environ, "SPC_AUTH_FAILURES_PER_MINUTE", DEFAULT_AUTH_FAILURES_PER_MINUTE))

    def client(self, request):
        return client_of(request.remote_addr, request.headers.get("X-Forwarded-For"), self.trust_forwarded, self.hops)

    def check_failures(self, request):
        """Raise RateLimited if this client spent its bound of failed authentications."""
        wait = self.failures.blocked_for(self.client(request))
        if wait:
            error = RateLimited(
                f"too many failed authentications from this client: retry in {wait} s",
                {"failures_per_minute": self.failures.capacity},
            )
            error.retry_after = wait
            raise error

    def count_failure(self, request):
        self.failures.wait_seconds(self.client(request))

    @property
    def cache_control(self):
        return f"public, max-age={self.max_age}"

    def admit(self, request):
        """Raise RateLimited when the request's client is past its rate."""
        wait = self.limiter.wait_seconds(self.client(request))
        if wait:
            error = RateLimited(
                f"at most {self.limiter.capacity} public requests a minute per client: retry in {wait} s",
                {"rate_per_minute": self.limiter.capacity},
            )
            error.retry_after = wait
            raise error

    def cached(self, request, response):
        """A 200 JSON answer with its ETag and Cache-Control, or a 304 for a current If-None-Match."""
        if response.status_code != 200:
            return response
        etag = etag_of(response.get_data())
        if not_modified(request.headers.get("If-None-Match"), etag):
            response = type(response)(status=304)
        response.headers["ETag"] = etag
        # a public page says a suspension within a second: browsers revalidate it (a 304 while it
        # is the same), where a JSON read may be kept SPC_PUBLIC_MAX_AGE
        page = (response.mimetype or "") == "text/html"
        response.headers["Cache-Control"] = f"public, max-age={min(self.max_age, 1)}" if page else self.cache_control
        return response


def _setting(environ, name, default):
    value = environ.get(name)
    if value in (None, ""):
        return default
    if not value.strip().isdigit():
        raise ValueError(f"{name} must be a whole number, 0 or more (got {value!r})")
    return int(value)
