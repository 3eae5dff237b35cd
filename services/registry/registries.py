"""The identity port's adapter: Sirene as API Recherche d'entreprises serves it
(https://recherche-entreprises.api.gouv.fr, no key). `SPC_IDENTITY_REGISTRY` names its base URL;
unset or `off`, nothing is asked and services stay `unverified` (local runs, the demo, CI).

A good citizen of a shared public API: at most 7 requests a second per process (its published
limit per address), a timeout on every request, a 429's `Retry-After` honoured, and a breaker
that stops asking for a while after repeated failures; every answer counted in
`spc_registry_identity_lookups_total`."""
import logging
import time

import requests
from nameko.extensions import DependencyProvider, SharedExtension

from spc.shared.metrics import MetricsHub

from spc.shared.pacing import Pacer

from .domain.identity import IdentityRegistries, RegistryUnavailable, UnitRecord

log = logging.getLogger(__name__)

PUBLIC_API = "https://recherche-entreprises.api.gouv.fr"


class RechercheEntreprises(IdentityRegistries):
    """`unit(siren)` by `GET {base}/search?q=<siren>`: the result whose `siren` is the one asked."""
    name = "recherche-entreprises"

    def __init__(self, base_url=PUBLIC_API, per_second=7.0, timeout=5.0, failures_to_open=5,
                 open_seconds=60.0, count=None, session=None, clock=time.monotonic, sleep=time.sleep):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.failures_to_open, self.open_seconds = failures_to_open, open_seconds
        self.count = count or (lambda result: None)
        self.session = session or requests.Session()
        self.clock = clock
        self.pacer = Pacer(1.0 / per_second, clock, sleep)
        self._failures, self._open_until = 0, 0.0

    def unit(self, siren):
        now = self.clock()
        if now < self._open_until:
            self.count("open")
            raise RegistryUnavailable(f"not asked: it failed just before (asked again in "
                                      f"{self._open_until - now:.0f} s)")
        self.pacer.wait()
        try:
            answer = self.session.get(f"{self.base_url}/search", params={"q": siren, "per_page": 5, "page": 1},
                                      timeout=self.timeout, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise self._failed(f"unreachable ({type(exc).__name__})") from None
        if answer.status_code == 429:
            wait = _seconds(answer.headers.get("Retry-After"), default=self.open_seconds)
            self._open_until = self.clock() + wait
            self.count("limited")
            raise RegistryUnavailable(f"over its limits (429): asked again in {wait:.0f} s")
        if answer.status_code != 200:
            raise self._failed(f"answered {answer.status_code}")
        try:
            results = answer.json().get("results") or []
        except (ValueError, AttributeError):
            raise self._failed("answered something that is not its JSON") from None
        self._failures = 0
        for result in results:
            if isinstance(result, dict) and result.get("siren") == siren:
                self.count("found")
                return _record(result)
        self.count("not_found")
        return None


    def _failed(self, why):
        self.count("failed")
        self._failures += 1
        if self._failures >= self.failures_to_open:
            self._open_until = self.clock() + self.open_seconds
            self._failures = 0
            log.warning("API Recherche d'entreprises %s %d times in a row: not asked for %.0f s",
                        why, self.failures_to_open, self.open_seconds)
        return RegistryUnavailable(why)


def _seconds(value, default):
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


def _record(result):
    complements = result.get("complements") or {}
    return UnitRecord(
        siren=result["siren"], name=str(result.get("nom_complet") or result.get("nom_raison_sociale") or ""),
        active=result.get("etat_administratif") == "A", legal_nature=str(result.get("nature_juridique") or ""),
        association=bool(complements.get("est_association")),
        rna=complements.get("identifiant_association") or None, ess=bool(complements.get("est_ess")))


def from_config(config, count=None):
    """The adapter the container's IDENTITY_REGISTRY names (SPC_IDENTITY_REGISTRY, a base URL
    checked by spc.config), or None (unset or `off`)."""
    base = config.get("IDENTITY_REGISTRY")
    if not base:
        return None
    timeout = float((config.get("ENV") or {}).get("SPC_IDENTITY_TIMEOUT") or 5)
    return RechercheEntreprises(base, timeout=timeout, count=count)


class _Registries(SharedExtension):
    hub = MetricsHub()

    def setup(self):
        self.adapter = from_config(self.container.config, count=lambda result: self.hub.metrics.identity_lookups
                                   .labels(result).inc())


class IdentityRegistriesProvider(DependencyProvider):
    """The identity port's adapter of this container (one, shared: its rate limit and breaker
    are the process's), or None when no registry is configured."""
    registries = _Registries()

    def get_dependency(self, worker_ctx):
        return self.registries.adapter
