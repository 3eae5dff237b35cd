"""France's territories as INSEE's Code officiel géographique (COG 2026) defines them: the one
place that says whether a commune, département or région code exists, where a commune lies, and
which area a France Services counter serves. Used by the registry (pacts and amendments) and by
distribution (`counter.upserted`, the counters import, matching services to counters).

The files are packaged under spc/data/cog/ (source, date and licence in its README.md). Pure
Python: no database, no network; loaded once per process (about 40,000 rows, ~0.2 s).

Area served (how a service covering communes reaches counters): France Services aims at one
counter per canton, so a commune's *area* is its canton (the COG's `CAN`; for a commune spread
over several cantons INSEE gives a pseudo-canton, e.g. 7599 for the whole of Paris); a commune
with no canton (Martinique, Guyane) falls back to its arrondissement (`ARR`), and with neither,
to its département. Municipal arrondissements (Paris, Lyon, Marseille) are in their commune's
area; a former commune (déléguée or associée) is in its current commune's.
"""

import csv
import gzip
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Collection, Iterable, Iterator

SOURCE = "INSEE, Code officiel géographique 2026 (Licence Ouverte), as packaged by datagouv/decoupage-administratif"
# The shape of each code, the one rule every schema uses (a pact's, an inbound event's, the open
# data's); whether a code of that shape exists is the COG's (Geography.check_*). Départements: 01–95,
# 2A and 2B, 971–978 overseas and 984–989 (the collectivities); a commune: five digits, or 2A/2B
# and three.
DEPARTMENT_CODE = r"^(0[1-9]|[1-8][0-9]|9[0-5]|2[AB]|97[1-8]|98[4-9])$"
COMMUNE_CODE = r"^([0-9]{5}|2[AB][0-9]{3})$"
REGION_CODE = r"^[0-9]{2}$"
# what an inbound event's département may look like (contract 1.0, before this rule): the COG then
# refuses, naming it, a code of that shape that is no département (shared/core/events/catalogue.Department)
CONTRACT_DEPARTMENT_SHAPE = r"^([0-9]{2}|2[AB]|97[0-9]|98[0-9])$"
CURRENT, MUNICIPAL_ARRONDISSEMENT, FORMER = "commune", "arrondissement_municipal", "former_commune"


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    department: str
    region: str | None
    kind: str  # CURRENT, MUNICIPAL_ARRONDISSEMENT or FORMER
    parent: str | None  # the current commune of an arrondissement or a former commune
    area: str  # "canton:3598", "arrondissement:9722" or "department:975"


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    region: str | None  # None for the overseas collectivities (975, 977, 978, 984, 986–989)


class Geography:
    """Lookups over the COG. Every `check_*` returns a list of problems (empty when fine), each
    naming the code at fault, so callers can say exactly what is wrong."""

    def __init__(self, communes: dict[str, Commune], departments: dict[str, Department], regions: dict[str, str]) -> None:
        self.communes, self.departments, self.regions = communes, departments, regions
        self.departments_of_region: dict[str, list[str]] = {}
        for dep in departments.values():
            if dep.region:
                self.departments_of_region.setdefault(dep.region, []).append(dep.code)

    # -- lookups --------------------------------------------------------------------------------
    def commune(self, code: str) -> Commune | None:
        return self.communes.get(code)

    def area_of(self, commune_code: str) -> str | None:
        """The area a commune is served in (see the module's docstring); None if unknown."""
        commune = self.communes.get(commune_code)
        return commune.area if commune else None

    def department_of(self, commune_code: str) -> str | None:
        commune = self.communes.get(commune_code)
        return commune.department if commune else None

    def departments_in(self, regions: Iterable[str]) -> list[str]:
        return sorted({d for r in regions for d in self.departments_of_region.get(r, [])})

    # -- checks ---------------------------------------------------------------------------------
    def check_departments(self, codes: Iterable[str]) -> list[str]:
        return [f"unknown département {c!r}" for c in codes if c not in self.departments]

    def check_regions(self, codes: Iterable[str]) -> list[str]:
        return [f"unknown région {c!r}" for c in codes if c not in self.regions]

    def check_communes(self, codes: Iterable[str], departments: Collection[str] | None = None) -> list[str]:
        """Each commune must exist; with `departments` given (the pact's), each must lie in one of
        them when any is given alongside it."""
        problems: list[str] = []
        for code in codes:
            commune = self.communes.get(code)
            if commune is None:
                problems.append(f"unknown commune {code!r}")
            elif commune.kind == FORMER:
                problems.append(f"commune {code!r} ({commune.name}) no longer exists: it is part of {commune.parent}")
            elif departments and commune.department not in departments:
                problems.append(
                    f"commune {code!r} ({commune.name}) is in département {commune.department}, not in {', '.join(departments)}"
                )
        return problems

    def check_place(self, commune_code: str, department: str, mobile: bool = False) -> list[str]:
        """A counter's place: a known commune (a former one is accepted: the ANCT file still uses
        some) lying in the département given with it. A `mobile` counter (a bus, an itinerant or
        multi-site one) may serve a département other than its base commune's: that département
        must then exist."""
        commune = self.communes.get(commune_code)
        if commune is None:
            return [f"unknown commune {commune_code!r}"]
        if mobile and commune.department != department:
            return self.check_departments([department])
        if commune.department != department:
            return [f"commune {commune_code!r} ({commune.name}) is in département {commune.department}, not {department}"]
        return []


def _read(name: str) -> Iterator[dict[str, str]]:
    data = resources.files("spc").joinpath("data", "cog", name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return csv.DictReader(io.StringIO(data.decode("utf-8")))


@lru_cache(maxsize=1)
def geography() -> Geography:
    """The COG, loaded once."""
    regions = {r["REG"]: r["LIBELLE"] for r in _read("cog-regions.csv")}
    departments = {r["DEP"]: Department(r["DEP"], r["LIBELLE"], r["REG"]) for r in _read("cog-departements.csv")}
    rows = list(_read("cog-communes.csv.gz"))
    current: dict[str, Commune] = {}
    for r in rows:
        if r["TYPECOM"] == "COM":
            area = f"canton:{r['CAN']}" if r["CAN"] else f"arrondissement:{r['ARR']}" if r["ARR"] else f"department:{r['DEP']}"
            current[r["COM"]] = Commune(r["COM"], r["LIBELLE"], r["DEP"], r["REG"], CURRENT, None, area)
    communes = dict(current)
    for r in rows:
        parent = current.get(r["COMPARENT"])
        if r["TYPECOM"] == "COM" or parent is None or r["COM"] in communes:
            continue  # a former commune sharing its current commune's code is that commune
        kind = MUNICIPAL_ARRONDISSEMENT if r["TYPECOM"] == "ARM" else FORMER
        communes[r["COM"]] = Commune(r["COM"], r["LIBELLE"], parent.department, parent.region, kind, parent.code, parent.area)
    for r in _read("cog-collectivites-outremer.csv"):
        dep = r["code_collectivite"]
        departments.setdefault(dep, Department(dep, r["nom_collectivite"], None))
        communes[r["code_commune"]] = Commune(r["code_commune"], r["nom_commune"], dep, None, CURRENT, None, f"department:{dep}")
    return Geography(communes, departments, regions)
