"""The registry as open data: `registry.csv`, one row per service holding a pact (the services the
public API lists: active, suspended, expired or revoked; not one still `submitted`), and
`datapackage.json`, a frictionless Data Package whose Table Schema describes every column.

What the public API shows, and nothing more (services/registry/public.py): no contact e-mail, no
person (governance responsible, data protection contact, legal representative, referent), no
referral or report text, no staff history; of the signatories only the public counterpart's name
and kind. Lists (territories, domains) are joined with `;`."""

import json

from spc.services.registry.domain.model import SUSPENDED
from spc.services.registry.domain.pact import COMMUNE, COUNTERPART_KINDS, DEPARTMENT, LEGAL_FORMS, REGION, RNA, SIREN
from spc.services.registry.public import LISTED, public_answer
from spc.shared.core.events import PRINCIPLES

from . import LICENCE, wire_moment, write_csv

CSV_NAME, PACKAGE_NAME = "registry.csv", "datapackage.json"
PAGE = 500


def _list_of(pattern):
    """A `;`-joined list of values each matching `pattern` (anchored ^...$)."""
    one = pattern.pattern.strip("^$")
    return f"{one}(;{one})*"


def _f(name, type_, description, **constraints):
    field = {"name": name, "type": type_, "description": description}
    if constraints:
        field["constraints"] = constraints
    return field


FIELDS = [
    _f("id", "string", "SPC's identifier of the service (GET /public/services/{id})", required=True, unique=True),
    _f("name", "string", "the service's name", required=True),
    _f("legal_form", "string", "its legal form", required=True, enum=list(LEGAL_FORMS)),
    _f(
        "siren",
        "string",
        "its SIREN (9 digits, Luhn); empty for an association known by its RNA number only or an informal collective",
        pattern=SIREN.pattern.strip("^$"),
    ),
    _f("rna", "string", "an association's RNA number (W and 9 digits)", pattern=RNA.pattern.strip("^$")),
    _f("mission", "string", "its mission, in its own words", required=True),
    _f("domains", "string", "its domains, joined with ;"),
    _f("departments", "string", "the départements it serves whole (INSEE codes, joined with ;)", pattern=_list_of(DEPARTMENT)),
    _f("communes", "string", "the communes it serves (INSEE codes, joined with ;)", pattern=_list_of(COMMUNE)),
    _f("regions", "string", "the régions it serves whole (INSEE codes, joined with ;)", pattern=_list_of(REGION)),
    _f("national", "boolean", "whether it serves the whole country", required=True),
    _f(
        "status",
        "string",
        "its standing: active, suspended (open violations), expired (the pact's term ended) or revoked",
        required=True,
        enum=list(LISTED),
    ),
    _f(
        "standing",
        "string",
        "the status in plain words, e.g. `suspended since 2026-11-20: a violation of neutrality is open`",
        required=True,
    ),
    _f("suspended_since", "datetime", "while suspended: since when (UTC); empty otherwise, or when not recorded"),
    _f("suspension_principle", "string", "while suspended: the principle of the violation at stake", enum=list(PRINCIPLES)),
    _f(
        "pact_version",
        "integer",
        "the pact's current version (1 at registration, +1 per approved amendment)",
        required=True,
        minimum=1,
    ),
    _f(
        "pact_complete",
        "boolean",
        "false for a contract-v1 pact (no commitment texts, governance, signatories or term)",
        required=True,
    ),
    _f("signed_on", "date", "when the pact was signed"),
    _f("term_starts_on", "date", "the pact's term: its first day"),
    _f("term_ends_on", "date", "the pact's term: its last day (after it the service is expired until renewed)"),
    _f("pilot", "boolean", "whether the pact is an expérimentation"),
    _f("evaluation_on", "date", "a pilot's evaluation date"),
    _f("public_counterpart_name", "string", "the State administration or collectivité that signed the pact"),
    _f("public_counterpart_kind", "string", "state or collectivite", enum=list(COUNTERPART_KINDS)),
    *[
        _f(
            f"commitment_{p}",
            "string",
            f"the service's own text of how it applies the principle of {p.replace('_', ' ')} (empty in a contract-v1 pact)",
        )
        for p in PRINCIPLES
    ],
]
HEADER = [f["name"] for f in FIELDS]


def export(uow, folder, opener, now):
    """Write `registry.csv` and `datapackage.json` into `folder` (a pathlib.Path); returns how
    many services were written. `now`: the export's moment (UTC, naive)."""
    with uow:
        count = write_csv(opener, str(folder / CSV_NAME), HEADER, (row(s) for s in _listed(uow)))
    with opener(str(folder / PACKAGE_NAME)) as f:
        f.write(json.dumps(package(now), ensure_ascii=False, indent=2) + "\n")
    return count


def _listed(uow):
    offset = 0
    while True:
        page, _ = uow.services.list(status=LISTED, limit=PAGE, offset=offset)
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


def _flag(value):
    return "" if value is None else ("true" if value else "false")


def row(service):
    """One service as a row of registry.csv."""
    view = public_answer(service)
    pact, places = view["pact"], view["territories"]
    counterpart = pact["public_counterpart"] or {}
    suspended = service.status == SUSPENDED
    commitments = {c["principle"]: c["text"] for c in view["commitments"]}
    return {
        "id": view["id"],
        "name": view["name"],
        "legal_form": view["legal_form"],
        "siren": view["siren"] or "",
        "rna": view["rna"] or "",
        "mission": view["mission"],
        "domains": ";".join(view["domains"]),
        **{k: ";".join(places[k]) for k in ("departments", "communes", "regions")},
        "national": _flag(places["national"]),
        "status": view["status"],
        "standing": view["standing"],
        "suspended_since": wire_moment(service.suspended_since) if suspended else "",
        "suspension_principle": (service.suspension_principle or "") if suspended else "",
        "pact_version": view["pact"]["version"],
        "pact_complete": _flag(pact["complete"]),
        "signed_on": pact["signed_on"] or "",
        "term_starts_on": pact["starts_on"] or "",
        "term_ends_on": pact["ends_on"] or "",
        "pilot": _flag(pact["pilot"]),
        "evaluation_on": pact["evaluation_on"] or "",
        "public_counterpart_name": counterpart.get("name", ""),
        "public_counterpart_kind": counterpart.get("kind", ""),
        **{f"commitment_{p}": commitments.get(p) or "" for p in PRINCIPLES},
    }


def package(now):
    """The Data Package describing registry.csv (Table Schema, licence, sources, export date)."""
    return {
        "name": "spc-registry",
        "title": "Service Public Citoyen: the citizen-run public services holding a pact",
        "description": "Every service that holds (or held) a pact with the State in Service Public Citoyen: "
        "who it is, where it serves, what it commits to for each public-service principle, "
        "its pact's term and signing public body, and its standing (suspended: since when and "
        "on which principle). No personal data. Exported on "
        f"{now.date().isoformat()} by `spc export registry`.",
        "created": wire_moment(now),
        "licenses": [LICENCE],
        "sources": [
            {
                "title": "Service Public Citoyen, the registry service's database (the pacts as approved "
                "and amended, the standings as audit decided them)"
            }
        ],
        "keywords": ["service public", "pacte", "économie sociale et solidaire", "transparence"],
        "resources": [
            {
                "name": "registry",
                "path": CSV_NAME,
                "profile": "tabular-data-resource",
                "title": "Services holding a pact",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": FIELDS, "primaryKey": ["id"], "missingValues": [""]},
            }
        ],
    }
