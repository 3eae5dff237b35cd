"""What the mutation run mutates (issue 25; docs/mutation.md): the code that carries SPC's
promises, each with the tests that claim to guard it. A target names its module (a path in the
repository), the definitions whose mutants count (qualified names; None: the whole module) and
the pytest arguments of its tests; `first`, if given, the tests run first on each mutant (the
domain's, fast to import: most mutants die there; the others then meet all of `tests`). `quick`
targets are run by CI (tests/mutation/test_mutation.py)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str
    module: str
    definitions: tuple | None
    tests: tuple
    quick: bool = True
    promise: str = ""
    first: tuple = ()


AUDIT_UNIT = ("tests/unit/test_audit_domain.py", "tests/unit/test_audit_handlers.py", "tests/unit/test_journal_publication.py")
# the persistence tests but those of the migrations (a third of their time, none of these modules)
PERSISTENCE = ("tests/integration/test_persistence.py", "-k", "not migrations")
JOURNAL_DB = (
    "tests/integration/test_journal_store.py",
    "tests/integration/test_journal_append_only.py",
    "tests/integration/test_audit_lanes.py",
)
INBOX_OUTBOX = ("tests/integration/test_inbox_outbox.py", "tests/integration/test_trace_context.py") + PERSISTENCE
APPLY_ONCE = ("tests/integration/test_apply_once.py",) + PERSISTENCE

TARGETS = (
    Target(
        "journal",
        "services/audit/domain/journal.py",
        None,
        AUDIT_UNIT,
        first=("tests/unit/test_audit_domain.py", "tests/unit/test_journal_publication.py"),
        promise="the hash chain, its verification, the export line and the checkpoint rule",
    ),
    Target(
        "journal-verification",
        "services/audit/handlers.py",
        ("verify_journal",),
        AUDIT_UNIT + ("tests/integration/test_journal_append_only.py",),
        first=AUDIT_UNIT,
        promise="GET /journal/verify checks the chain up to its head",
    ),
    Target(
        "journal-store",
        "services/audit/repository.py",
        (
            "Journal.seen_many",
            "Journal.record_many",
            "Journal.claim_many",
            "Journal._pending_rows",
            "Journal.record_new",
            "Journal._head",
            "Journal.chain",
            "Journal.length",
            "Journal.entries",
            "Journal.entry_batch",
        ),
        JOURNAL_DB,
        quick=False,
        first=("tests/integration/test_journal_store.py", "-k", "sqlite"),
        promise="events are journaled once and chained in order, under a lock on the head",
    ),
    Target(
        "token-roles",
        "shared/web/auth.py",
        None,
        ("tests/unit/test_auth.py", "tests/integration/test_oidc.py"),
        first=("tests/unit/test_auth.py",),
        promise="tokens name a role and, for scoped roles, what they may act on; a JWT goes to the "
        "OIDC issuer's check (a real issuer, run by test_oidc.py), and the actor names its subject",
    ),
    Target(
        "authorisation",
        "shared/web/http.py",
        ("JsonHttp.__init__", "JsonHttp._authorise", "JsonHttp._allowed"),
        ("tests/unit/test_auth.py",),
        promise="an operation admits its declared roles, and scoped tokens on their own ids only",
    ),
    Target(
        "funding",
        "services/funding/domain/model.py",
        None,
        ("tests/unit/test_funding_domain.py", "tests/unit/test_funding_handlers.py", "tests/unit/test_funding_approvals.py"),
        first=("tests/unit/test_funding_domain.py",),
        promise="the release guard, the freeze, the budget arithmetic, a grant's revocation and a budget raise",
    ),
    Target(
        "dual-control",
        "services/funding/domain/approvals.py",
        None,
        ("tests/unit/test_funding_approvals.py",),
        promise="above the amount, two people: another approves, once, before it expires; a suspension voids",
    ),
    Target(
        "registry-standing",
        "services/registry/domain/model.py",
        (
            "CitizenService.apply_audit_decision",
            "CitizenService.approve",
            "CitizenService.revoke",
            "CitizenService.expire",
            "CitizenService._term_ended",
            "CitizenService._require",
            "CitizenService._move",
            "CitizenService.record_identity",
            "CitizenService.identity_doubted",
        ),
        ("tests/unit/test_registry_domain.py", "tests/unit/test_registry_handlers.py", "tests/unit/test_identity.py"),
        first=("tests/unit/test_registry_domain.py",),
        promise="an open violation suspends, none left reinstates; a stale decision is ignored; a doubted "
        "identity is approved only with a reason",
    ),
    Target(
        "distribution-standing",
        "services/distribution/domain/model.py",
        (
            "DistributedService.listable",
            "DistributedService.covers",
            "DistributedService.apply_standing",
            "DistributedService.reconcile",
            "_reconcile",
        ),
        ("tests/unit/test_distribution_domain.py", "tests/unit/test_distribution_handlers.py"),
        first=("tests/unit/test_distribution_domain.py",),
        promise="a newer standing withdraws or publishes the listings; an older one is ignored",
    ),
    Target(
        "inbox-outbox",
        "shared/sql/outbox.py",
        (
            "Inbox.seen",
            "Inbox.seen_many",
            "Inbox.record",
            "Inbox.record_many",
            "Inbox.claim_many",
            "Inbox._rows",
            "Inbox.forget",
            "OutboxRelay.claim",
            "OutboxRelay.drain_once",
            "OutboxRelay.mark_published",
            "OutboxRelay.drain",
        ),
        INBOX_OUTBOX,
        quick=False,
        first=("tests/integration/test_inbox_outbox.py", "-k", "sqlite"),
        promise="a consumed event is recorded with its effect; the relay claims, publishes and marks",
    ),
    Target(
        "bulk",
        "shared/sql/bulk.py",
        None,
        ("tests/integration/test_bulk.py",) + INBOX_OUTBOX,
        quick=False,
        first=("tests/integration/test_bulk.py",),
        promise="rows in bulk land as given, in order, in one statement; a taken key is skipped, never returned",
    ),
    Target(
        "apply-once",
        "shared/messaging/consumer.py",
        ("apply_once", "apply_batch", "_fresh", "_apply_batch", "_duplicates"),
        APPLY_ONCE,
        quick=False,
        first=("tests/integration/test_apply_once.py", "-k", "sqlite"),
        promise="an event is applied once, whatever the redeliveries and the races",
    ),
)
