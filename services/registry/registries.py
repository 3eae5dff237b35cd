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

from spc.shared.observe.metrics import MetricsHub

from spc.shared.core.pacing import Pacer

from .domain.identity import IdentityRegistries, RegistryUnavailable, UnitRecord

log = logging.getLogger(__name__)

PUBLIC_API = "https://recherche-entreprises.api.gouv.fr"
API_ENTREPRISE = "https://entreprise.api.gouv.fr"


class RechercheEntreprises(IdentityRegistries):
    """`unit(siren)` by `GET {base}/search?q=<siren>`: the result whose `siren` is the one asked."""

    name = "recherche-entreprises"

    def __init__(
        self,
        base_url=PUBLIC_API,
        per_second=7.0,
        timeout=5.0,
        failures_to_open=5,
        open_seconds=60.0,
        count=None,
        session=None,
        clock=time.monotonic,
        sleep=time.sleep,
    ):
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
            raise RegistryUnavailable(f"not asked: it failed just before (asked again in {self._open_until - now:.0f} s)")
        self.pacer.wait()
        try:
            answer = self.session.get(
                f"{self.base_url}/search",
                params={"q": siren, "per_page": 5, "page": 1},
                timeout=self.timeout,
                headers={"Accept": "application/json"},
            )
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
            log.warning(
                "API Recherche d'entreprises %s %d times in a row: not asked for %.0f s",
                why,
                self.failures_to_open,
                self.open_seconds,
            )
        return RegistryUnavailable(why)


def _seconds(value, default):
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


def _record(result):
    complements = result.get("complements") or {}
    return UnitRecord(
        siren=result["siren"],
        name=str(result.get("nom_complet") or result.get("nom_raison_sociale") or ""),
        active=result.get("etat_administratif") == "A",
        legal_nature=str(result.get("nature_juridique") or ""),
        association=bool(complements.get("est_association")),
        rna=complements.get("identifiant_association") or None,
        ess=bool(complements.get("est_ess")),
    )


class ApiEntreprise(IdentityRegistries):
    """An association by its RNA number, from API Entreprise (a token of an administration:
    https://entreprise.api.gouv.fr; `recipient` is that administration's SIRET, which each call
    names, with its context and object): `GET /v4/djepva/api-association/associations/open_data/<rna>`.
    At most 250 requests a minute per token; 404: no such association."""

    name = rna_name = "api-entreprise"
    serves_rna = True

    def __init__(
        self,
        token,
        recipient,
        base_url=API_ENTREPRISE,
        per_minute=250,
        timeout=5.0,
        count=None,
        session=None,
        clock=time.monotonic,
        sleep=time.sleep,
    ):
        self.token, self.recipient, self.base_url = token, recipient, base_url.rstrip("/")
        self.timeout, self.count = timeout, count or (lambda result: None)
        self.session = session or requests.Session()
        self.pacer = Pacer(60.0 / per_minute, clock, sleep)

    def association(self, rna):
        self.pacer.wait()
        try:
            answer = self.session.get(
                f"{self.base_url}/v4/djepva/api-association/associations/open_data/{rna}",
                timeout=self.timeout,
                params={
                    "context": "SPC: registration of a citizen service",
                    "object": f"identity check of {rna}",
                    "recipient": self.recipient,
                },
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            )
        except requests.RequestException as exc:
            self.count("failed")
            raise RegistryUnavailable(f"unreachable ({type(exc).__name__})") from None
        if answer.status_code == 404:
            self.count("not_found")
            return None
        if answer.status_code != 200:
            self.count("limited" if answer.status_code == 429 else "failed")
            raise RegistryUnavailable(f"answered {answer.status_code}")
        try:
            data = answer.json()["data"]
            nature = str((data.get("forme_juridique") or {}).get("code") or "")
            self.count("found")
            return UnitRecord(
                siren=data.get("siren") or "",
                name=str(data.get("nom") or ""),
                active=bool(data.get("active")) and not data.get("date_dissolution"),
                legal_nature=nature,
                association=nature.startswith("92"),
                rna=data.get("rna"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            self.count("failed")
            raise RegistryUnavailable("answered something that is not its JSON") from None


class NationalRegistries(IdentityRegistries):
    """Sirene (API Recherche d'entreprises) for a SIREN, the RNA (API Entreprise) for an
    association known only by its RNA number: whichever are configured."""

    def __init__(self, sirene=None, rna=None):
        self.sirene, self.rna = sirene, rna
        self.name = sirene.name if sirene else "recherche-entreprises"
        self.rna_name = rna.rna_name if rna else "api-entreprise"
        self.serves_rna = rna is not None

    def unit(self, siren):
        if self.sirene is None:
            raise RegistryUnavailable("not configured (SPC_IDENTITY_REGISTRY)")
        return self.sirene.unit(siren)

    def association(self, rna):
        if self.rna is None:
            return super().association(rna)
        return self.rna.association(rna)


def from_config(config, count=None):
    """The registries the container's config names (IDENTITY_REGISTRY: a base URL checked by
    spc.runtime.config; API_ENTREPRISE: its token and recipient), or None when neither is."""
    base, entreprise = config.get("IDENTITY_REGISTRY"), config.get("API_ENTREPRISE")
    if not base and not entreprise:
        return None
    timeout = float(config.get("IDENTITY_TIMEOUT") or 5)  # SPC_IDENTITY_TIMEOUT, checked by spc.runtime.config
    sirene = RechercheEntreprises(base, timeout=timeout, count=count) if base else None
    rna = (
        ApiEntreprise(entreprise["token"], entreprise["recipient"], entreprise["url"], timeout=timeout, count=count)
        if entreprise
        else None
    )
    return NationalRegistries(sirene, rna)


class _Registries(SharedExtension):
    hub = MetricsHub()

    def setup(self):
        self.adapter = from_config(
            self.container.config, count=lambda result: self.hub.metrics.identity_lookups.labels(result).inc()
        )


class IdentityRegistriesProvider(DependencyProvider):
    """The identity port's adapter of this container (one, shared: its rate limit and breaker
    are the process's), or None when no registry is configured."""

    registries = _Registries()

    def get_dependency(self, worker_ctx):
        return self.registries.adapter
