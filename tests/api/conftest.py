"""The admin HTTP API held to openapi.yaml: the four services in this process on the real
RabbitMQ (a vhost per test) and PostgreSQL (a database per service), driven as staff would, from
the document alone. The service layer's fixtures (cluster_factory) start them."""
import pytest

from spc import config
from tests.service.conftest import cluster_factory  # noqa: F401  (the fixture, for this layer too)


@pytest.fixture
def pg_urls(pg_url_factory):
    return {n: pg_url_factory(f"spc_api_{n}") for n in config.SERVICE_NAMES}


@pytest.fixture
def spc_pg(pg_urls, cluster_factory):  # noqa: F811  (databases made first, dropped last)
    """All four services on PostgreSQL; returns (Api, their database URLs). The public reads'
    rate limit and the bound on failed authentications are lifted: the fuzzing and the
    authorisation matrix call them hundreds of times, with no or unknown tokens too
    (tests/service/test_public_api.py and tests/api/test_hardening.py hold the limits)."""
    return cluster_factory(db_urls=pg_urls, SPC_PUBLIC_RATE_PER_MINUTE="0",
                           SPC_AUTH_FAILURES_PER_MINUTE="0")[1], pg_urls
