"""Reminders' rules (shared/sql/reminders.py), each service's deadlines (their domain's reminders.py)
and the e-mail's words (services/registry/domain/mail.py): pure, no database."""

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from spc.services.audit.domain.reminders import remediations
from spc.services.funding.domain.reminders import milestones
from spc.services.registry.domain.mail import reminder_mail, when
from spc.services.registry.domain.reminders import pact_deadlines
from spc.shared.core.deadlines import Deadline, due_reminders, reminder_kind
from spc.shared.sql.reminders import agenda, within_days
from spc.shared.messaging.smtp import Smtp, SmtpConfigError

TODAY = date(2027, 3, 1)


def deadline(kind, days):
    return Deadline(kind, "s1", f"{kind}-{days}", TODAY + timedelta(days=days), "t")


@pytest.mark.parametrize(
    "kind, days, expected",
    [
        ("milestone", 15, None),
        ("milestone", 14, "milestone_due"),
        ("milestone", 0, "milestone_due"),
        ("milestone", -1, "milestone_overdue"),
        ("milestone", -400, "milestone_overdue"),
        ("term_end", 91, None),
        ("term_end", 90, "term_ending_90"),
        ("term_end", 31, "term_ending_90"),
        ("term_end", 30, "term_ending_30"),
        ("term_end", 0, "term_ending_30"),
        ("term_end", -1, None),
        ("pilot_evaluation", 15, None),
        ("pilot_evaluation", 14, "evaluation_due"),
        ("pilot_evaluation", -3, "evaluation_due"),
        ("remediation", 8, None),
        ("remediation", 7, "remediation_due"),
        ("remediation", 0, "remediation_due"),
        ("remediation", -1, "remediation_overdue"),
    ],
)
def test_each_threshold_calls_for_its_reminder(kind, days, expected):
    assert reminder_kind(deadline(kind, days), TODAY, notice_days=14) == expected


def test_a_reminder_is_keyed_by_its_kind_subject_and_date_so_each_threshold_is_said_once():
    term = Deadline("term_end", "s1", "s1", TODAY + timedelta(days=60), "t")
    [(key90, kind90, _)] = due_reminders([term], TODAY, 14)
    [(key30, kind30, _)] = due_reminders([term], TODAY + timedelta(days=40), 14)
    assert (kind90, kind30) == ("term_ending_90", "term_ending_30")
    assert key90 == "term_ending_90:s1:2027-04-30" and key30 != key90
    assert due_reminders([term], TODAY + timedelta(days=1), 14)[0][0] == key90  # the next day: the same reminder
    moved = Deadline("term_end", "s1", "s1", TODAY + timedelta(days=61), "t")  # an amendment moved the term
    assert due_reminders([moved], TODAY, 14)[0][0] != key90


def test_the_agenda_lists_what_falls_due_within_the_window_and_all_that_is_overdue_soonest_first():
    items = agenda(
        [deadline("milestone", 40), deadline("milestone", 3), deadline("milestone", -90), deadline("term_end", 30)],
        TODAY,
        within=30,
    )
    assert [(i["kind"], i["days_left"]) for i in items] == [("milestone", -90), ("milestone", 3), ("term_end", 30)]


@pytest.mark.parametrize("text, days", [("30d", 30), ("7", 7), ("0d", 0), (" 365d ", 365), ("999", 999)])
def test_within_takes_days(text, days):
    assert within_days(text) == days


@pytest.mark.parametrize("text", ["", "d", "-1d", "1w", "1000", "30 d", "3.5"])
def test_within_refuses_anything_else(text):
    with pytest.raises(ValidationError):
        within_days(text)


def test_funding_reminds_only_the_scheduled_tranches_milestones_in_euros():
    def tranche(status, milestone="ouverture"):
        return SimpleNamespace(
            id=f"t-{status}", service_id="s1", due_date=TODAY, amount_cents=1_500_050, milestone=milestone, status=status
        )

    found = milestones(
        [tranche("scheduled"), tranche("released"), tranche("frozen"), tranche("cancelled"), tranche("scheduled", milestone="")]
    )
    assert [d.subject_id for d in found] == ["t-scheduled", "t-scheduled"]
    assert found[0].title == "Jalon « ouverture » : pièces attendues pour le versement de 15\u202f000,50\u00a0€"
    assert "« sans intitulé »" in found[1].title


def test_the_registry_follows_the_term_and_a_pilots_evaluation_of_active_and_suspended_services_only():
    term = {"starts_on": "2026-01-01", "ends_on": "2027-07-01", "pilot": True, "evaluation_on": "2027-03-15"}
    kinds = [(d.kind, d.due_on.isoformat(), d.title) for d in pact_deadlines("s1", "active", term)]
    assert kinds == [
        ("term_end", "2027-07-01", "Fin du pacte le 1er juillet 2027 : son renouvellement est à préparer"),
        ("pilot_evaluation", "2027-03-15", "Évaluation de l'expérimentation prévue le 15 mars 2027"),
    ]
    assert len(pact_deadlines("s1", "suspended", term)) == 2
    assert pact_deadlines("s1", "revoked", term) == pact_deadlines("s1", "expired", term) == []
    assert pact_deadlines("s1", "active", None) == []  # a contract-v1 pact: no term
    assert [d.kind for d in pact_deadlines("s1", "active", dict(term, pilot=False))] == ["term_end"]


def test_audit_reminds_the_open_findings_remediation_deadlines():
    def finding(status, deadline_at):
        return SimpleNamespace(
            id=f"f-{status}", service_id="s1", principle="equality", status=status, remediation_deadline=deadline_at
        )

    at = datetime(2027, 3, 8, 14, 30)
    found = remediations([finding("open", at), finding("resolved", at), finding("open", None)])
    assert [(d.subject_id, d.due_on) for d in found] == [("f-open", date(2027, 3, 8))]
    assert found[0].title == "Constat « Égalité d'accès » : remédiation attendue le 8 mars 2027"


def test_the_mail_says_what_falls_due_when_and_what_to_do_in_french():
    mail = reminder_mail(
        "bureau@lutins.example.org",
        "Crèche Les Lutins",
        "s1",
        {
            "kind": "milestone_overdue",
            "due_on": "2027-02-27",
            "days_left": -2,
            "title": "Jalon « ouverture » : pièces attendues pour le versement de 15\u202f000,00\u00a0€",
        },
    )
    assert mail.to == "bureau@lutins.example.org"
    assert mail.subject.startswith("[Service Public Citoyen] Jalon « ouverture »")
    assert "au sujet du service « Crèche Les Lutins »" in mail.body
    assert "Échéance : le 27 février 2027 (dépassée de 2 jours)." in mail.body
    assert "transmettez les pièces justificatives" in mail.body and "/services/s1/agenda" in mail.body
    assert [when(n) for n in (3, 1, 0, -1)] == ["dans 3 jours", "demain", "aujourd'hui", "dépassée de 1 jour"]


def test_the_smtp_url_says_host_port_security_and_login():
    relay = Smtp.from_url("smtp+starttls://alice%40ville:s%3Acret@smtp.ville.fr", "rappels@ville.fr")
    assert (relay.host, relay.port, relay.security, relay.user, relay.password) == (
        "smtp.ville.fr",
        587,
        "starttls",
        "alice@ville",
        "s:cret",
    )
    assert (Smtp.from_url("smtps://relay:2465", "a@b").port, Smtp.from_url("smtp://relay", "a@b").port) == (2465, 25)
    for url, sender in (("http://relay", "a@b"), ("smtp://", "a@b"), ("smtp://relay:x", "a@b"), ("smtp://relay", "no")):
        with pytest.raises(SmtpConfigError):
            Smtp.from_url(url, sender)
