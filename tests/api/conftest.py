"""The admin HTTP API held to openapi.yaml: the four services in this process on the real
RabbitMQ (a vhost per test) and PostgreSQL (a database per service), driven as staff would, from
the document alone. The service layer's fixtures (cluster_factory) start them."""

import pytest

from spc.runtime import config
from tests.service.conftest import cluster_factory  # noqa: F401  (the fixture, for this layer too)


@pytest.fixture
def pg_urls(pg_url_factory):
    return {n: pg_url_factory(f"spc_api_{n}") for n in config.SERVICE_NAMES}


def examples_demarche(folder):
    """Démarches Simplifiées as the tests run it, holding the dossier of openapi.yaml's examples
    (EXAMPLE_IDS["number"]), and the registry's settings to read it (never polled: the examples'
    webhook reads it). Returns (the server, the settings)."""
    import shutil
    from spc.generate.examples import EXAMPLE_IDS
    from tests.ds_dossiers import EXAMPLE, champs_of
    from tests.ds_server import DsServer
    from tests.pacts import full_pact

    ds = DsServer(demarche=4242)
    ds.submit(champs_of(full_pact(name="Maison des aidants de Rennes")), number=EXAMPLE_IDS["number"])
    (folder / "ds").mkdir()
    shutil.copy(EXAMPLE, folder / "ds" / "4242.toml")
    return ds, {
        "SPC_DS_TOKEN": ds.token,
        "SPC_DS_URL": ds.url,
        "SPC_DS_MAPPINGS": str(folder / "ds"),
        "SPC_DS_WEBHOOK_SECRET": EXAMPLE_IDS["secret"],
        "SPC_DS_POLL_SECONDS": "3600",
    }


@pytest.fixture
def demarches(tmp_path):
    ds, env = examples_demarche(tmp_path)
    yield env
    ds.close()


@pytest.fixture
def spc_pg(pg_urls, cluster_factory, demarches):  # noqa: F811  (databases made first, dropped last)
    """All four services on PostgreSQL; returns (Api, their database URLs). The public reads'
    rate limit and the bound on failed authentications are lifted: the fuzzing and the
    authorisation matrix call them hundreds of times, with no or unknown tokens too
    (tests/service/test_public_api.py and tests/api/test_hardening.py hold the limits)."""
    return cluster_factory(db_urls=pg_urls, SPC_PUBLIC_RATE_PER_MINUTE="0", SPC_AUTH_FAILURES_PER_MINUTE="0", **demarches)[
        1
    ], pg_urls
