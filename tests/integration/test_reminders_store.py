"""Reminders and their e-mails on SQLite and PostgreSQL: a reminder is written once whichever
replica checks first (two databases handles standing for two replicas), and the mail relay
neither loses an e-mail while the SMTP relay is away nor sends it twice once it is back."""

from datetime import date, timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from spc.runtime.fleet import spec
from spc.services.funding import handlers as funding
from spc.services.funding import orm as funding_orm
from spc.services.funding.domain import commands
from spc.services.registry import mailer
from spc.services.registry import orm as registry_orm
from spc.services.registry.domain.mail import Mail
from spc.shared.core import envelope
from spc.shared.core.clock import utcnow
from spc.shared.messaging.consumer import apply_once
from spc.shared.sql.reminders import send_due
from spc.shared.messaging.smtp import Smtp
from tests.support import free_port
from tests.unit.fakes import standing


def _funded(uow):
    apply_once(uow, standing("s1", "active", 2), funding.EVENT_HANDLERS["registry.service_approved"])
    prog = funding.create_programme(uow, commands.CreateProgramme("P", 1_000_000, "fo/x"))
    funding.award_grant(
        uow,
        commands.AwardGrant(
            prog["id"],
            "s1",
            [
                {"amount_cents": 1000, "due_date": date.today() + timedelta(days=3), "milestone": "a"},
                {"amount_cents": 1000, "due_date": date.today() - timedelta(days=2), "milestone": "b"},
                {"amount_cents": 1000, "due_date": date.today() + timedelta(days=100), "milestone": "c"},
            ],
            "fo/x",
        ),
    )


def _reminders_in_outbox(database):
    with database.engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(funding_orm.outbox).where(funding_orm.outbox.c.event_type == "funding.reminder_due")
        ).scalar()


def test_a_reminder_is_written_once_whichever_replica_checks(db_url):
    first, second = spec("funding").open(db_url), spec("funding").open(db_url)
    try:
        _funded(first.uow())
        check = dict(
            deadlines_of=funding.deadlines, event_type="funding.reminder_due", table=funding_orm.reminders_sent, notice_days=14
        )
        assert send_due(first.uow(), **check) == 2  # due in 3 days, overdue by 2; not the one in 100
        assert send_due(second.uow(), **check) == 0
        assert send_due(first.uow(), **check) == 0
        assert _reminders_in_outbox(first) == 2
        # tomorrow the same deadlines call for the same reminders: nothing new
        assert send_due(second.uow(), today=date.today() + timedelta(days=1), **check) == 0
        # in 100 days the third is due too, and the first two are overdue (a reminder of their own)
        assert send_due(second.uow(), today=date.today() + timedelta(days=95), **check) == 2
        assert _reminders_in_outbox(first) == 4
        with first.engine.connect() as conn:
            payloads = [
                envelope.parse(body.encode()).payload
                for body in conn.execute(
                    select(funding_orm.outbox.c.body)
                    .where(funding_orm.outbox.c.event_type == "funding.reminder_due")
                    .order_by(funding_orm.outbox.c.id)
                ).scalars()
            ]
        assert [p["kind"] for p in payloads] == ["milestone_overdue", "milestone_due", "milestone_overdue", "milestone_due"]
    finally:
        first.close()
        second.close()


class _Inbox:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        return "250 OK"


def test_the_mail_relay_keeps_a_mail_while_smtp_is_away_then_sends_it_once(db_url):
    database = spec("registry").open(db_url)
    port = free_port()
    relay = Smtp("127.0.0.1", port, "plain", "rappels@spc.example.org", timeout=2)
    try:
        uow = database.uow()
        with uow:
            uow.mails.queue("milestone_due:t-1:2027-03-01", "s1", Mail("a@b.example", "Objet", "Texte"))
            uow.mails.queue("milestone_due:t-1:2027-03-01", "s1", Mail("a@b.example", "Objet", "Texte"))
            uow.commit()  # the same reminder twice (a redelivered event): one mail
        assert len(mailer.pending(database.uow())) == 1
        assert mailer.send_pending(database.uow(), relay) == (0, 1)  # nothing listens on the port yet
        [kept] = mailer.pending(database.uow())
        assert kept["attempts"] == 1 and "Connection" in kept["last_error"] and kept["sent_at"] is None

        inbox = _Inbox()
        server = Controller(inbox, hostname="127.0.0.1", port=port)
        server.start()
        try:
            with database.engine.begin() as conn:  # another replica's claim, still running: left alone
                conn.execute(update(registry_orm.mail_outbox).values(claimed_until=utcnow() + timedelta(seconds=30)))
            assert mailer.send_pending(database.uow(), relay) == (0, 0) and inbox.received == []
            with database.engine.begin() as conn:  # its claim lapsed (it died): taken over
                conn.execute(update(registry_orm.mail_outbox).values(claimed_until=utcnow() - timedelta(seconds=1)))
            assert mailer.send_pending(database.uow(), relay) == (1, 0)
            assert mailer.send_pending(database.uow(), relay) == (0, 0)
        finally:
            server.stop()
        assert len(inbox.received) == 1 and b"Subject: Objet" in inbox.received[0]
        assert mailer.pending(database.uow()) == []
    finally:
        database.close()


def test_a_long_french_subject_arrives_whole():
    """Python's header folding cut a long non-ASCII subject into encoded words and lost a space
    ("» :pièces", seen in the demo): the message is written unfolded."""
    import email
    import email.policy

    inbox, port = _Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        subject = "[Service Public Citoyen] Jalon « mid-year » : pièces attendues pour le versement de 12\u202f000,00\u00a0€"
        Smtp("127.0.0.1", port, "plain", "a@b.example").send("c@d.example", subject, "Texte é", "<x@y>")
    finally:
        server.stop()
    message = email.message_from_bytes(inbox.received[0], policy=email.policy.default)
    assert message["Subject"] == subject and message.get_content().strip() == "Texte é"


def test_audit_and_the_registry_find_their_deadlines_in_their_own_tables(db_url, tmp_path, request):
    """Audit: an open minor finding's remediation deadline (7 days before, then passed); the
    registry: a followed service's term and pilot evaluation, read from its pact document."""
    from spc.services.audit import handlers as audit
    from spc.services.audit import orm as audit_orm
    from spc.services.audit.domain.commands import RecordFinding
    from spc.services.registry import handlers as registry
    from spc.services.registry import orm as registry_orm
    from spc.services.registry.domain import commands as registry_commands
    from spc.services.registry.domain.pact import Pact
    from tests.pacts import full_pact

    if db_url.startswith("postgresql"):  # a database each, as deployed
        make = request.getfixturevalue("pg_url_factory")
        audit_url, registry_url = make("spc_reminders_audit"), make("spc_reminders_registry")
    else:
        audit_url, registry_url = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'r.db'}"
    audit_db, registry_db = spec("audit").open(audit_url), spec("registry").open(registry_url)
    try:
        apply_once(audit_db.uow(), standing("s1", "active", 2), audit.STANDING_HANDLERS["registry.service_approved"])
        finding = audit.record_finding(audit_db.uow(), RecordFinding("s1", "transparency", "minor", "Comptes", "i-35"))
        deadline = date.fromisoformat(finding["remediation_deadline"][:10])
        check = dict(
            deadlines_of=audit.deadlines, event_type="audit.reminder_due", table=audit_orm.reminders_sent, notice_days=14
        )
        assert send_due(audit_db.uow(), today=deadline - timedelta(days=8), **check) == 0
        assert send_due(audit_db.uow(), today=deadline - timedelta(days=5), **check) == 1
        assert send_due(audit_db.uow(), today=deadline - timedelta(days=4), **check) == 0
        assert send_due(audit_db.uow(), today=deadline + timedelta(days=1), **check) == 1

        today = date.today()
        body = full_pact(
            term={
                "starts_on": (today - timedelta(days=300)).isoformat(),
                "ends_on": (today + timedelta(days=60)).isoformat(),
                "pilot": True,
                "evaluation_on": (today + timedelta(days=10)).isoformat(),
            },
            signatories={**full_pact()["signatories"], "signed_on": (today - timedelta(days=310)).isoformat()},
        )
        sid = registry.register_service(registry_db.uow(), registry_commands.RegisterService(Pact.from_dict(body), "r/x"))["id"]
        with registry_db.uow() as uow:
            found = {d.kind: d.due_on for d in registry.deadlines(uow, today + timedelta(days=90))}
        assert found == {}  # submitted, not approved: nothing is followed yet
        registry.approve_service(registry_db.uow(), registry_commands.ApproveService(sid, "r/x"))
        with registry_db.uow() as uow:
            found = {d.kind: d.due_on for d in registry.deadlines(uow, today + timedelta(days=90))}
        assert found == {"term_end": today + timedelta(days=60), "pilot_evaluation": today + timedelta(days=10)}
        check = dict(
            deadlines_of=registry.deadlines, event_type="registry.reminder_due", table=registry_orm.reminders_sent, notice_days=14
        )
        assert send_due(registry_db.uow(), **check) == 2  # the term within 90 days, the evaluation within 14
        assert send_due(registry_db.uow(), **check) == 0
    finally:
        audit_db.close()
        registry_db.close()
