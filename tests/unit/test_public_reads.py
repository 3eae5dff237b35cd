"""The public reads' cache and bounds (shared/web/public_reads.py), with an injected clock: the token
bucket per client, the ETag and If-None-Match, who counts as the client."""

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from spc.shared.web.http import http_status
from spc.shared.web.public_reads import PublicReads, RateLimited, RateLimiter, client_of, etag_of, not_modified


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_a_client_may_spend_a_minute_s_worth_at_once_then_waits_for_the_refill(clock):
    limiter = RateLimiter(6, clock)  # one token every 10 s
    assert [limiter.wait_seconds("a") for _ in range(6)] == [0] * 6
    assert limiter.wait_seconds("a") == 10
    clock.now += 9.9
    assert limiter.wait_seconds("a") == 1  # almost there: at least a second, never 0 while refused
    clock.now += 0.2
    assert limiter.wait_seconds("a") == 0
    assert limiter.wait_seconds("a") == 10


def test_each_client_has_its_own_bucket(clock):
    limiter = RateLimiter(1, clock)
    assert limiter.wait_seconds("a") == 0 and limiter.wait_seconds("a") == 60
    assert limiter.wait_seconds("b") == 0


def test_the_bucket_never_holds_more_than_a_minute_s_worth(clock):
    limiter = RateLimiter(2, clock)
    limiter.wait_seconds("a")
    clock.now += 3600
    assert [limiter.wait_seconds("a") for _ in range(3)] == [0, 0, 30]


def test_a_rate_of_zero_means_no_limit(clock):
    limiter = RateLimiter(0, clock)
    assert all(limiter.wait_seconds("a") == 0 for _ in range(1000)) and limiter.buckets == {}


def test_memory_is_bounded_idle_clients_forgotten_first(clock):
    limiter = RateLimiter(60, clock, max_clients=3)
    for client in ("old", "b", "c"):
        limiter.wait_seconds(client)
        clock.now += 1
    clock.now += 60  # all full again: forgotten when room is needed
    limiter.wait_seconds("d")
    limiter.wait_seconds("e")
    assert set(limiter.buckets) == {"d", "e"}
    for client in ("f", "g"):
        clock.now += 1
        limiter.wait_seconds(client)
    assert set(limiter.buckets) == {"e", "f", "g"}  # none idle: the oldest goes


def test_rate_limited_is_a_429():
    assert http_status(RateLimited) == 429 and RateLimited.code == "rate_limited"


def test_the_etag_is_a_strong_hash_of_the_body():
    tag = etag_of(b'{"a": 1}')
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 34
    assert tag == etag_of(b'{"a": 1}') != etag_of(b'{"a": 2}')


@pytest.mark.parametrize(
    "header,matches",
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abcd"', False),
        ('"x"', False),
    ],
)
def test_if_none_match_names_the_current_etag(header, matches):
    assert not_modified(header, '"abc"') is matches


def test_the_client_is_the_peer_unless_the_forwarded_header_is_trusted():
    assert client_of("10.0.0.1", "203.0.113.7, 10.0.0.2", trust_forwarded=False) == "10.0.0.1"
    # the proxy appends the peer it saw: the address it wrote, not what the client claimed before it
    assert client_of("10.0.0.1", "203.0.113.7, 10.0.0.2", trust_forwarded=True) == "10.0.0.2"
    assert client_of("10.0.0.1", "203.0.113.7, 10.0.0.2", trust_forwarded=True, hops=2) == "203.0.113.7"
    assert client_of("10.0.0.1", "10.0.0.2", trust_forwarded=True, hops=2) == "10.0.0.2"
    assert client_of("10.0.0.1", None, trust_forwarded=True) == "10.0.0.1"
    assert client_of(None, None, trust_forwarded=False) == "unknown"


def reads(rate="2", **env):
    extension = PublicReads()
    extension.container = type("Container", (), {"config": {"ENV": {"SPC_PUBLIC_RATE_PER_MINUTE": rate, **env}}})()
    extension.setup()
    return extension


def request(headers=None, remote="192.0.2.1"):
    return Request(EnvironBuilder(path="/public/x", headers=headers or {}, environ_base={"REMOTE_ADDR": remote}).get_environ())


def test_an_answer_carries_its_etag_and_cache_control_and_a_current_if_none_match_gets_304_with_no_body():
    public = reads(SPC_PUBLIC_MAX_AGE="45")
    first = public.cached(request(), Response('{"total": 1}', mimetype="application/json"))
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=45"
    again = public.cached(
        request({"If-None-Match": first.headers["ETag"]}), Response('{"total": 1}', mimetype="application/json")
    )
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == first.headers["ETag"]
    changed = public.cached(
        request({"If-None-Match": first.headers["ETag"]}), Response('{"total": 2}', mimetype="application/json")
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_an_error_is_neither_tagged_nor_cached():
    answer = reads().cached(request(), Response('{"error": {}}', status=404, mimetype="application/json"))
    assert "ETag" not in answer.headers and "Cache-Control" not in answer.headers


def test_past_its_rate_a_client_is_refused_with_retry_after_and_others_go_on():
    public = reads(rate="2")
    public.admit(request())
    public.admit(request())
    with pytest.raises(RateLimited) as refused:
        public.admit(request())
    assert refused.value.retry_after == 30 and refused.value.details == {"rate_per_minute": 2}
    public.admit(request(remote="192.0.2.2"))


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket():
    public = reads(rate="1", SPC_TRUST_FORWARDED="true")
    public.admit(request({"X-Forwarded-For": "203.0.113.7"}))
    public.admit(request({"X-Forwarded-For": "203.0.113.8"}))
    with pytest.raises(RateLimited):
        # a made-up address before the proxy's own changes nothing: the proxy saw 203.0.113.7
        public.admit(request({"X-Forwarded-For": "192.0.2.1, 203.0.113.7"}))


@pytest.mark.parametrize("name", ["SPC_PUBLIC_RATE_PER_MINUTE", "SPC_PUBLIC_MAX_AGE"])
def test_a_setting_that_is_not_a_whole_number_stops_the_service_saying_which(name):
    with pytest.raises(ValueError, match=name):
        reads(**{name: "-1"})
