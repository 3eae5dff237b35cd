"""The grants as open data, in the SCDL "Subventions" format (Table Schema 2.1.1, vendored in
spc/data/schemas/ with its source): `subventions.csv`, one row per grant, its columns the
schema's in the schema's order. docs/open-data.md says how each column is filled.

A grant the format cannot describe truthfully is left out, and said (`skipped`): its programme
names no funder, or names it by its SIREN only (`nomAttribuant`, `idAttribuant` — a SIRET, 14
digits — are required), or nothing of it is left (every tranche cancelled when the service was
revoked). `idBeneficiaire` is a SIRET and the registry knows a SIREN: it stays empty (a SIRET
cannot be made from a SIREN), `rnaBeneficiaire` holds the association's RNA number when it has
one; a grant whose beneficiary has neither is written, with a warning."""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from spc.services.funding.domain.model import CANCELLED

from . import write_csv

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "schemas" / "scdl-subventions-2.1.1.schema.json"
CSV_NAME = "subventions.csv"
TEXT_LIMIT = 256  # objet, descriptionConditionsVersement


@lru_cache(maxsize=1)
def header():
    """The SCDL's column names, in its order (an SCDL file has every column, in this order)."""
    return [f["name"] for f in json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["fields"]]


class NotPublishable(Exception):
    """Why a grant cannot be written as an SCDL row."""


@dataclass
class Beneficiary:
    name: str
    siren: str | None
    rna: str | None
    mission: str


def export(funding_uow, registry_uow, folder, opener, today, warn):
    """Write `subventions.csv` into `folder`; `warn(line)` for each grant left out or written
    incomplete. Returns (written, skipped)."""
    with registry_uow:
        beneficiaries = {s.id: Beneficiary(s.name, s.siren, s.rna, s.pact.mission) for s in registry_uow.services.every()}
    with funding_uow:  # rows made inside: the session's objects are expired once it ends
        programmes = {p.id: p for p in funding_uow.funding.programmes()}
        rows, skipped = [], 0
        for grant in funding_uow.funding.grants():
            try:
                rows.append(
                    scdl_row(grant, programmes[grant.programme_id], beneficiaries.get(grant.service_id), grant.awarded_at, today)
                )
            except NotPublishable as exc:
                warn(f"grant {grant.id} skipped: {exc}")
                skipped += 1
    for row in rows:
        if not (row["idBeneficiaire"] or row["rnaBeneficiaire"]):
            warn(
                f"grant {row['idSubvention']}: written without idBeneficiaire or rnaBeneficiaire: "
                f"{row['nomBeneficiaire']!r} has no RNA number and SPC knows no SIRET of it"
            )
    return write_csv(opener, str(folder / CSV_NAME), header(), rows), skipped


def _cut(text, limit=TEXT_LIMIT):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _euros(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def scdl_row(grant, programme, beneficiary, awarded_at, today):
    """One grant as an SCDL row; NotPublishable when the format cannot describe it truthfully."""
    funder = programme.funder
    if funder is None:
        raise NotPublishable(
            f"programme {programme.id} ({programme.name!r}) names no funder: the SCDL requires "
            "nomAttribuant and idAttribuant (a SIRET)"
        )
    if not funder.siret:
        raise NotPublishable(
            f"programme {programme.id} ({programme.name!r}) names its funder {funder.name!r} by its "
            f"SIREN {funder.siren} only: the SCDL's idAttribuant is a SIRET (14 digits)"
        )
    if beneficiary is None:
        raise NotPublishable(f"its service {grant.service_id} is not in the registry's database")
    if awarded_at is None:
        raise NotPublishable(
            "its award date is not known (awarded before funding kept it, its "
            "funding.grant_awarded event since pruned): no dateConvention"
        )
    kept = sorted((t for t in grant.tranches if t.status != CANCELLED), key=lambda t: t.due_date)
    if not kept:
        raise NotPublishable("every tranche was cancelled (the service was revoked): nothing is granted any more")
    years = sorted({t.due_date.year for t in kept})
    row = dict.fromkeys(header(), "")
    row.update(
        {
            "idSubvention": grant.id,
            "nomAttribuant": funder.name,
            "idAttribuant": funder.siret,
            "nomServiceInstructeur": funder.name,
            "idServiceInstructeur": funder.siret,
            "nomBeneficiaire": beneficiary.name,
            "rnaBeneficiaire": beneficiary.rna or "",
            "pluriannualite": "oui" if len(years) > 1 else "non",
            "anneesPluriannualite": " - ".join(map(str, years)) if len(years) > 1 else "",
            "dateConvention": awarded_at.date().isoformat(),
            "referenceDecision": " ".join((programme.legal_basis or "").split()) or f"programme {programme.id}",
            "dispositif": programme.name,
            "statutLabel": "attribuée",
            "objet": _cut(beneficiary.mission or programme.name),
            "nature": "aide en numéraire",
            "montant": _euros(sum(t.amount_cents for t in kept)),
            "conditionsVersement": "unique" if len(kept) == 1 else "échelonné",
            "descriptionConditionsVersement": _cut(payment_terms(kept, len(grant.tranches) - len(kept))),
            "datesPeriodeVersement": kept[0].due_date.isoformat()
            + (f"/{kept[-1].due_date.isoformat()}" if len(kept) > 1 else ""),
            "notificationUE": "non",
            "pourcentageSubvention": "1.00",
            "dateMiseAJour": today.isoformat(),
        }
    )
    return row


def payment_terms(kept, cancelled):
    """The tranches in words (French, as the SCDL's readers): each paid from its due date on
    evidence of its milestone; cancelled ones said."""
    dates = ", ".join(f"{t.due_date.isoformat()} ({_euros(t.amount_cents)} €)" for t in kept)
    text = (
        f"{len(kept)} tranches versées chacune à partir de sa date d'échéance, sur justificatif de son jalon : "
        if len(kept) > 1
        else "versement unique à partir de sa date d'échéance, sur justificatif de son jalon : "
    )
    text += dates
    if cancelled:
        text += (
            f" ; {cancelled} tranche{'s' if cancelled > 1 else ''} annulée{'s' if cancelled > 1 else ''} "
            "à la révocation du service"
        )
    return text
