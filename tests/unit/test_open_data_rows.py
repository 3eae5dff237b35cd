"""How a grant becomes an SCDL row (spc/opendata/grants.py), with nothing running: what is left
out and why, cancelled tranches, texts within the schema's 256 characters."""

from datetime import date, datetime

import pytest

from spc.opendata.grants import Beneficiary, NotPublishable, header, scdl_row
from spc.services.funding.domain.funder import Funder
from spc.services.funding.domain.model import CANCELLED, Grant, Programme, Tranche

SIRET = "13002526500013"
AWARDED = datetime(2026, 3, 2, 9, 30)


def grant(*statuses):
    tranches = [Tranche(f"t{i}", "g1", "s1", 100_000 * (i + 1), date(2026 + i, 4, 1)) for i in range(len(statuses))]
    for tranche, status in zip(tranches, statuses, strict=True):
        tranche.status = status
    return Grant("g1", "p1", "s1", tranches)


ANCT = Funder("ANCT", SIRET[:9], SIRET)


def programme(funder=ANCT):
    return Programme("p1", "Petite enfance", 10_000_000, funder=funder)


def row(g, p=None, mission="Crèche parentale"):
    return scdl_row(g, p or programme(), Beneficiary("Les Petits Pas", None, "W353012345", mission), AWARDED, date(2026, 11, 26))


def test_a_row_has_every_scdl_column_and_the_required_ones_filled():
    r = row(grant("scheduled", "released"))
    assert list(r) == header()
    assert (r["conditionsVersement"], r["datesPeriodeVersement"], r["montant"], r["pluriannualite"]) == (
        "échelonné",
        "2026-04-01/2027-04-01",
        "3000.00",
        "oui",
    )
    assert r["dateConvention"] == "2026-03-02" and r["referenceDecision"] == "programme p1"


def test_cancelled_tranches_are_neither_counted_nor_dated_but_said():
    r = row(grant("released", CANCELLED))
    assert (r["conditionsVersement"], r["datesPeriodeVersement"], r["montant"]) == ("unique", "2026-04-01", "1000.00")
    assert r["descriptionConditionsVersement"].endswith("1 tranche annulée à la révocation du service")


@pytest.mark.parametrize(
    "g, p, reason",
    [
        (grant(CANCELLED, CANCELLED), None, "every tranche was cancelled"),
        (grant("scheduled"), programme(funder=None), "names no funder"),
        (grant("scheduled"), programme(funder=Funder("Région Bretagne", "233500016")), "SIREN 233500016 only"),
    ],
)
def test_a_grant_the_format_cannot_describe_is_not_published(g, p, reason):
    with pytest.raises(NotPublishable, match=reason):
        row(g, p)


def test_texts_are_cut_to_the_schemas_256_characters():
    r = row(grant(*["scheduled"] * 12), mission="Une mission  très\nlongue. " * 30)
    assert len(r["objet"]) == len(r["descriptionConditionsVersement"]) == 256
    assert r["objet"].endswith("…") and "\n" not in r["objet"] and "  " not in r["objet"]
