"""Several registry processes poll the same démarche (replicas, an urgent-lanes process): on
PostgreSQL, the démarche's cursor row makes one of them take the round while it lasts; the
others leave it (services/registry/ds_intake.py, SyncCursor.take)."""

import threading
import time

from spc.services.registry import ds_intake
from spc.services.registry.domain.dossiers import Mapping
from spc.services.registry.ds_client import Page


def test_two_processes_polling_one_demarche_at_once_make_one_round(pg_url_factory, open_database):
    url = pg_url_factory("spc_ds_race")
    databases = [open_database("registry", url), open_database("registry", url)]  # two processes' pools
    asked = []

    class SlowDs:  # a round that takes a while: the other process comes in the middle of it
        def dossiers(self, demarche, after=None, updated_since=None):
            asked.append(threading.get_ident())
            time.sleep(1.0)
            return Page([], False, None)

        def deleted_dossiers(self, demarche, deleted_since=None):
            return []

    mapping = Mapping(4242, {"r": {"name": "c"}})
    results = []
    threads = [
        threading.Thread(target=lambda db=db: results.append(ds_intake.sync_demarche(db.uow(), SlowDs(), mapping)))
        for db in databases
    ]
    for t in threads:
        t.start()
        time.sleep(0.2)
    for t in threads:
        t.join(30)
    assert len(results) == 2 and len(asked) == 1  # one round; the other process left it
    ds_intake.sync_demarche(databases[0].uow(), SlowDs(), mapping)  # the lease was let go at its end
    assert len(asked) == 2
