"""Reminders and the agenda, on the real broker with a real SMTP server (aiosmtpd) as the
operator's relay: a service whose pact ends in 20 days, whose pilot is evaluated in 5, with a
milestone due in 3 days and one 2 days overdue, gets one e-mail per reminder, in French, at the
contact address of its pact; the periodic checks run many times and no reminder is said twice.
Each service's agenda lists its own deadlines; the service's own token reads its own."""

import email
import email.policy
import time
from datetime import date, timedelta

from aiosmtpd.controller import Controller

from tests.pacts import full_pact
from tests.support import TOKENS_ENV, EventTap, free_port, wait_for


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self):
        self.mails = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


def _days(n):
    return (date.today() + timedelta(days=n)).isoformat()


def test_each_reminder_is_mailed_once_to_the_service_in_french_and_each_agenda_lists_its_deadlines(
    cluster_factory, amqp_uri, tmp_path
):
    inbox, port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKENS_ENV.replace(",", "\n") + "\n")
    tap = EventTap(amqp_uri, keys=("*.reminder_due",))
    try:
        _, spc = cluster_factory(
            SPC_ADMIN_TOKENS="",
            SPC_ADMIN_TOKENS_FILE=str(tokens),
            SPC_REMINDER_SECONDS="0.3",
            SPC_MAIL_SECONDS="0.2",
            SPC_SMTP_URL=f"smtp://127.0.0.1:{port}",
            SPC_SMTP_FROM="rappels@spc.example.org",
        )
        pact = full_pact(
            term={"starts_on": _days(-300), "ends_on": _days(20), "pilot": True, "evaluation_on": _days(5)},
            signatories={**full_pact()["signatories"], "signed_on": _days(-310)},
        )
        sid = spc.ok("POST", "registry", "/services", "registrar", pact)["id"]
        spc.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
        prog = spc.ok("POST", "funding", "/programmes", "funding_officer", {"name": "P", "budget_cents": 10_000_000})
        wait_for("funding", lambda: spc.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "active")
        grant = spc.ok(
            "POST",
            "funding",
            "/grants",
            "funding_officer",
            {
                "programme_id": prog["id"],
                "service_id": sid,
                "tranches": [
                    {"amount_cents": 1_500_000, "due_date": _days(3), "milestone": "ouverture"},
                    {"amount_cents": 500_000, "due_date": _days(-2), "milestone": "lancement"},
                    {"amount_cents": 500_000, "due_date": _days(200), "milestone": "bilan"},
                ],
            },
        )
        due, overdue, later = (t["id"] for t in grant["tranches"])
        wait_for(
            "audit to know the service",
            lambda: spc.call("GET", "audit", f"/services/{sid}/findings", "auditor").status_code == 200,
        )
        finding = spc.ok(
            "POST",
            "audit",
            "/findings",
            "auditor",
            {
                "service_id": sid,
                "principle": "transparency",
                "severity": "minor",
                "summary": "Comptes 2026 non publiés",
                "reported_by": "inspection-35",
            },
        )

        mails = wait_for("four e-mails", lambda: inbox.mails if len(inbox.mails) >= 4 else None, timeout=30)
        time.sleep(2)  # many more rounds of both periodic checks and of the mail relay: nothing more
        assert len(inbox.mails) == 4, [m["Subject"] for _, m in inbox.mails]
        assert {tuple(to) for to, _ in mails} == {("bureau@petitspas.example.org",)}
        by_subject = {m["Subject"]: m for _, m in mails}
        assert sorted(by_subject) == sorted(
            [
                "[Service Public Citoyen] Jalon « ouverture » : pièces attendues pour le versement de 15\u202f000,00\u00a0€",
                "[Service Public Citoyen] Jalon « lancement » : pièces attendues pour le versement de 5\u202f000,00\u00a0€",
                f"[Service Public Citoyen] Fin du pacte le {_fr(date.today() + timedelta(days=20))} : son "
                "renouvellement est à préparer",
                f"[Service Public Citoyen] Évaluation de l'expérimentation prévue le {_fr(date.today() + timedelta(days=5))}",
            ]
        )
        overdue_mail = next(m for s, m in by_subject.items() if "lancement" in s)
        text = overdue_mail.get_content()
        assert "(dépassée de 2 jours)" in text and "transmettez les pièces justificatives" in text
        assert overdue_mail["From"] == "rappels@spc.example.org" and overdue_mail["Message-ID"].endswith(
            "@service-public-citoyen>"
        )
        assert overdue_mail["Auto-Submitted"] == "auto-generated"

        events = tap.drain(quiet=1.0)
        kinds = sorted((e["event_type"], e["payload"]["kind"], e["payload"]["subject_id"]) for e in events)
        assert kinds == sorted(
            [
                ("funding.reminder_due", "milestone_due", due),
                ("funding.reminder_due", "milestone_overdue", overdue),
                ("registry.reminder_due", "term_ending_30", sid),
                ("registry.reminder_due", "evaluation_due", sid),
            ]
        )

        # each agenda: its own deadlines, soonest first, the overdue first of all
        assert [(i["kind"], i["days_left"]) for i in spc.ok("GET", "registry", "/agenda?within=30d")["items"]] == [
            ("pilot_evaluation", 5),
            ("term_end", 20),
        ]
        assert [(i["subject_id"], i["days_left"]) for i in spc.ok("GET", "funding", "/agenda")["items"]] == [
            (overdue, -2),
            (due, 3),
        ]
        assert [i["subject_id"] for i in spc.ok("GET", "funding", "/agenda?within=365")["items"]] == [overdue, due, later]
        remediation = spc.ok("GET", "audit", "/agenda?within=31d")["items"]
        assert [(i["kind"], i["subject_id"]) for i in remediation] == [("remediation", finding["id"])]
        bad = spc.call("GET", "funding", "/agenda?within=next-week")
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request", bad.text

        # the service's own token reads its own agenda, not another's
        with tokens.open("a") as handle:
            handle.write(f"service/{sid}:t-own\n")
        spc.tokens["own"] = "t-own"
        wait_for("the service's token", lambda: spc.call("GET", "funding", f"/services/{sid}/agenda", "own").status_code == 200)
        own = spc.ok("GET", "registry", f"/services/{sid}/agenda", "own")["items"]
        assert {i["service_id"] for i in own} == {sid} and len(own) == 2
        other = spc.call("GET", "funding", "/services/someone-else/agenda", "own")
        assert other.status_code == 403, other.text
    finally:
        smtp.stop()


def _fr(day):
    from spc.shared.core.french import date_fr

    return date_fr(day)
