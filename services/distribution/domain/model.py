"""France Services counters and where each active service is listed.

Matching by area served (issue 11): an active service is listed at every open counter
- of its départements, and of the départements of its régions (région 94 reaches 2A and 2B);
- of the *area* of each of its communes: the commune's canton in INSEE's COG, else its
  arrondissement, else its département (shared/core/geography.py). France Services aims at one
  counter per canton, so a service covering Rennes (35238, canton 3598) is listed at every
  counter of canton 3598, not at Bruz (35047, canton 3504); one covering Paris 11e (75111) at
  every counter of Paris (pseudo-canton 7599); one covering Fort-de-France (97209: Martinique has
  no cantons) at the counters of arrondissement 9721;
- everywhere when it is national (976 included).
A service's `areas` are these places as keys ("national", "department:35", "canton:3598",
"arrondissement:9721"), derived from its territory when its standing arrives, so `covers` needs
no lookup; a counter's `area` is its commune's. Suspension, revocation or expiry withdraws every
listing; reinstatement republishes them. A counter that closes loses its listings; a new one gets
those covering it.
"""

from dataclasses import dataclass
from datetime import datetime

# Optional[X], not X | None: the mutation run (tests/mutation) would mutate the `|`, in annotations too
from typing import Any, Iterable, Mapping, Optional

from spc.shared.core.domain import Aggregate
from spc.shared.core.geography import geography

from . import events

PUBLISHED, WITHDRAWN = "published", "withdrawn"
NATIONAL = "national"


def department_of(commune_insee: str) -> str:
    """The department of an INSEE commune code: 2 characters, 3 overseas (97x, 98x)."""
    return commune_insee[:3] if commune_insee.startswith(("97", "98")) else commune_insee[:2]


def department_area(department: str) -> str:
    return f"department:{department}"


def area_of(commune_insee: str, department: str) -> Optional[str]:
    """A counter's area: its commune's (COG); its whole département for a mobile counter based in
    another one (a bus of the Eure based in Rouen serves the Eure, not Rouen's canton), or for a
    code the COG does not know (a counter recorded before places were checked)."""
    geo = geography()
    if geo.department_of(commune_insee) != department:
        return department_area(department)
    return geo.area_of(commune_insee)


def areas_served(territories: Mapping[str, Any]) -> list[str]:
    """The area keys a territory (as in the registry's events) is listed in, sorted."""
    geo = geography()
    if territories.get("national"):
        return [NATIONAL]
    departments = set(territories.get("departments", ())) | set(geo.departments_in(territories.get("regions", ())))
    areas = {department_area(d) for d in departments}
    areas |= {area for c in territories.get("communes", ()) if (area := geo.area_of(c)) is not None}  # unknown: nowhere
    return sorted(areas)


def places_touched(*territories: Mapping[str, Any]) -> tuple[list[str], bool]:
    """(départements, national) where the listings of these territories are: what to lock."""
    departments: set[str]
    geo, departments, national = geography(), set(), False
    for t in territories:
        national = national or bool(t.get("national"))
        departments |= set(t.get("departments", ())) | set(geo.departments_in(t.get("regions", ())))
        departments |= {department_of(c) for c in t.get("communes", ())}
    return sorted(departments), national


class Counter:
    """A France Services counter; `format` is the ANCT directory's (events.COUNTER_FORMATS). Its
    `details` (type, email, phone, hours, note: counter.upserted 1.1) are what an agent and a visitor
    read on the catalogue; None is unknown."""

    DETAILS = ("type", "email", "phone", "hours", "note")

    def __init__(
        self,
        id: str,
        name: str,
        commune_insee: str,
        department: str,
        address: str = "",
        lat: Optional[float] = None,
        lon: Optional[float] = None,
        format: str = "fixe",
        **details: Any,
    ) -> None:
        self.id, self.name, self.address = id, name, address
        self.commune_insee, self.department = commune_insee, department
        self.area = area_of(commune_insee, department)
        self.lat, self.lon, self.format = lat, lon, format
        self._set_details(details)
        self.open = True
        self.changed_at: Optional[datetime] = None

    def stale(self, at: Optional[datetime]) -> bool:
        """Whether a change that happened `at` is older than the one this counter holds (counter
        events carry no version: one handled late, after a newer one, must not undo it). None, a
        change of unknown time (the directory's file imported), is never stale, and a counter
        whose last change's time is unknown takes any."""
        return at is not None and self.changed_at is not None and at < self.changed_at

    def update(
        self,
        name: str,
        commune_insee: str,
        department: str,
        address: str = "",
        lat: Optional[float] = None,
        lon: Optional[float] = None,
        format: str = "fixe",
        **details: Any,
    ) -> bool:
        """Returns whether the counter's place or opening changed (only then do listings)."""
        moved = (commune_insee, department, True) != (self.commune_insee, self.department, self.open)
        self.name, self.commune_insee, self.department = name, commune_insee, department
        self.area = area_of(commune_insee, department)
        self.address, self.lat, self.lon, self.format = address, lat, lon, format
        self._set_details(details)
        self.open = True
        return moved

    def _set_details(self, details: Mapping[str, Any]) -> None:
        unknown = set(details) - set(self.DETAILS)
        if unknown:
            raise TypeError(f"unknown counter details {sorted(unknown)}")
        for name in self.DETAILS:
            setattr(self, name, details.get(name))


@dataclass(frozen=True)
class RelayedReport:
    """A visitor's report a counter agent relayed: who, when, from which counter, and the
    usager.report_submitted it became. Never its text (personal data: audit keeps it)."""

    event_id: str
    counter_id: str
    relayed_by: str
    relayed_at: datetime


class Listing:
    def __init__(self, service_id: str, counter_id: str, status: str = PUBLISHED) -> None:
        self.service_id, self.counter_id, self.status = service_id, counter_id, status


class DistributedService(Aggregate):
    """Distribution's view of a service: its standing (newest version wins), its territory as the
    registry gave it, the areas that territory serves, and what a counter's catalogue shows of its
    pact (PROFILE: mission, domains, contact, how to refer a person, its commitments)."""

    PROFILE = ("mission", "domains", "contact_email", "referral", "commitments")

    def __init__(self, service_id: str, name: str = "", status: str = "unknown", version: int = 0) -> None:
        self.service_id, self.name, self.status, self.version = service_id, name, status, version
        self.departments: list[str]
        self.communes: list[str]
        self.regions: list[str]
        self.departments, self.communes, self.regions, self.national = [], [], [], False
        self.areas: list[str] = []
        self.mission: Optional[str] = None
        self.contact_email: Optional[str] = None
        self.referral: Optional[str] = None
        self.domains: list[str]
        self.commitments: list[dict[str, Any]]
        self.domains, self.commitments = [], []

    @property
    def listable(self) -> bool:
        return self.status == "active"

    @property
    def territories(self) -> dict[str, Any]:
        return {"departments": self.departments, "communes": self.communes, "regions": self.regions, "national": self.national}

    def covers(self, counter: Counter) -> bool:
        return counter.open and bool({NATIONAL, department_area(counter.department), counter.area} & set(self.areas))

    def apply_standing(
        self, name: str, status: str, version: int, territories: Mapping[str, Any], profile: Optional[Mapping[str, Any]] = None
    ) -> bool:
        """Take a newer standing (`profile`: the PROFILE fields it carries); False if not newer."""
        if version <= self.version:
            return False
        self.name, self.status, self.version = name, status, version
        profile = profile or {}
        self.mission, self.contact_email, self.referral = (profile.get(k) for k in ("mission", "contact_email", "referral"))
        self.domains = list(profile.get("domains") or [])
        self.commitments = [{"principle": c["principle"], "text": c.get("text")} for c in profile.get("commitments") or []]
        self.departments = list(territories.get("departments", []))
        self.communes = list(territories.get("communes", []))
        self.regions = list(territories.get("regions", []))
        self.national = bool(territories.get("national", False))
        self.areas = areas_served(territories)
        return True

    def reconcile(self, counters: Iterable[Counter], listings: Mapping[str, Listing]) -> list[Listing]:
        """Make `listings` (this service's, by counter id) match its standing over `counters`
        (the candidates in its territory); records what was published and withdrawn. Returns the
        new Listing objects."""
        created, published, withdrawn = _reconcile(self, counters, listings)
        reason = f"service {self.status} (version {self.version})"
        if published:
            self._record(
                events.ListingsChanged(change="published", service_id=self.service_id, counter_ids=published, reason=reason)
            )
        if withdrawn:
            self._record(
                events.ListingsChanged(change="withdrawn", service_id=self.service_id, counter_ids=withdrawn, reason=reason)
            )
        return created


def _reconcile(
    service: DistributedService, counters: Iterable[Counter], listings: Mapping[str, Listing]
) -> tuple[list[Listing], list[str], list[str]]:
    wanted = {c.id for c in counters if service.listable and service.covers(c)}
    created: list[Listing] = []
    published: list[str] = []
    withdrawn: list[str] = []
    for counter_id in sorted(wanted):
        listing = listings.get(counter_id)
        if listing is None:
            created.append(Listing(service.service_id, counter_id))
            published.append(counter_id)
        elif listing.status != PUBLISHED:
            listing.status = PUBLISHED
            published.append(counter_id)
    for counter_id, listing in sorted(listings.items()):
        if counter_id not in wanted and listing.status == PUBLISHED:
            listing.status = WITHDRAWN
            withdrawn.append(counter_id)
    return created, published, withdrawn
