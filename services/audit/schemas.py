"""Audit's HTTP bodies and answers: a finding has the fields of compliance.violation_reported."""

from marshmallow import Schema, fields, validate

from spc.shared.core.answers import Answer, Moment, out
from spc.shared.core.events import PRINCIPLES, REPORT_CATEGORIES, SEVERITIES, ViolationReported
from spc.shared.core.lists import ListShape, alias
from spc.shared.sql.staff import ActionOut

from .domain.reports import REPORT_STATUSES


FINDING_STATUSES = ("open", "resolved")


def _id(**kw):
    return fields.String(validate=validate.Length(1, 64), **kw)


class FindingIn(ViolationReported):
    """Staff send what an external inspection publishes (compliance.violation_reported), with the
    evidence link checked by the one rule openapi.yaml states."""

    evidence_url = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=2000), validate.Regexp(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$")],
        metadata={"description": "an https link to the evidence (printable ASCII: percent-encode the rest)"},
    )
    report_ids = fields.List(
        _id(),
        load_default=list,
        validate=validate.Length(max=500),
        metadata={
            "description": "citizen reports the finding is made of: each must be about the service and "
            "untriaged; each then names the finding, which lists them"
        },
    )


class ResolveIn(Schema):
    resolution = fields.String(required=True, validate=validate.Length(1, 5000))


class DismissIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class EscalateIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 5000))


class AnswerIn(Schema):
    plan = fields.String(
        required=True,
        validate=validate.Length(1, 5000),
        metadata={"description": "what the service will do to remedy the finding"},
    )
    due_on = fields.Date(required=True, metadata={"description": "the date it commits to"})


class RemediationDoneIn(Schema):
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=5000),
        metadata={"description": "what was done, where to see it"},
    )


class FindingCommitmentOut(Schema):
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    text = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the service's own text of how it applies the principle (null in a contract-v1 pact)"},
    )
    pact_version = fields.Integer(required=True, metadata={"description": "the pact version the text is from"})


class EscalationOut(Schema):
    at = Moment(required=True, allow_none=True, attribute="escalated_at")
    by = fields.String(
        required=True,
        allow_none=True,
        attribute="escalated_by",
        metadata={"description": "the auditor (`role/label`); null when the remediation deadline passed"},
    )
    reason = fields.String(required=True, allow_none=True, attribute="escalation_reason")


class FindingAnswerOut(Schema):
    plan = fields.String(required=True)
    due_on = fields.Date(required=True, attribute="plan_due_on")
    answered_by = fields.String(required=True)
    answered_at = Moment(required=True)
    done_at = Moment(
        required=True, allow_none=True, metadata={"description": "when the service reported it done (null until then)"}
    )
    done_by = fields.String(required=True, allow_none=True)
    done_note = fields.String(required=True, allow_none=True)


class FindingOut(Schema):
    id = fields.String(required=True)
    service_id = fields.String(required=True)
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    summary = fields.String(required=True)
    reported_by = fields.String(allow_none=True)
    evidence_url = fields.String(allow_none=True)
    is_violation = fields.Boolean(
        required=True,
        metadata={"description": "major and critical findings are violations: the service is suspended while one is open"},
    )
    escalated = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(FINDING_STATUSES))
    created_at = Moment(required=True)
    remediation_deadline = Moment(allow_none=True)
    resolution = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolved_at = Moment(allow_none=True)
    commitment = fields.Nested(
        FindingCommitmentOut,
        required=True,
        allow_none=True,
        metadata={
            "description": "the service's commitment to the finding's principle, from the newest pact audit "
            "has heard of (null while audit does not know it)"
        },
    )
    escalation = fields.Nested(EscalationOut, required=True, allow_none=True)
    answer = fields.Nested(
        FindingAnswerOut,
        required=True,
        allow_none=True,
        metadata={"description": "the service's remediation plan (null until it answers)"},
    )
    report_ids = fields.List(
        fields.String(), required=True, metadata={"description": "the citizen reports the finding is made of"}
    )
    opened_by_threshold = fields.Boolean(
        required=True, metadata={"description": "opened by the report threshold (SPC_REPORT_THRESHOLD): minor, with no deadline"}
    )
    history = fields.List(
        fields.Nested(ActionOut),
        metadata={"description": "who did what to it through the admin API, oldest first (single-resource answers)"},
    )


class FindingsOut(ListShape):
    service_id = fields.String(required=True)
    open_violations = fields.Integer(required=True)
    items = fields.List(fields.Nested(FindingOut), required=True, metadata={"description": "oldest first"})
    findings = fields.List(fields.Nested(FindingOut), required=True, metadata=alias("findings"))


class JournalCheck(Schema):
    ok = fields.Boolean(required=True)
    length = fields.Integer(metadata={"description": "entries checked (when ok)"})
    first_bad_seq = fields.Integer(metadata={"description": "the first entry whose hash does not follow (when not ok)"})


class ReportQuery(Schema):
    service_id = _id()
    category = fields.String(validate=validate.OneOf(REPORT_CATEGORIES))
    status = fields.String(validate=validate.OneOf(REPORT_STATUSES))
    counter_id = _id()
    since = fields.Date(data_key="from", metadata={"description": "received on or after this day (UTC)"})
    until = fields.Date(data_key="to", metadata={"description": "received on or before this day (UTC)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 100_000))


class CitizenReportOut(Schema):
    id = fields.String(required=True)
    service_id = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(REPORT_CATEGORIES))
    text = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the citizen's text: personal data, null once purged (SPC_REPORT_RETENTION_DAYS)"},
    )
    counter_id = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(REPORT_STATUSES))
    created_at = Moment(required=True, metadata={"description": "received"})
    finding_id = fields.String(required=True, allow_none=True)
    dismissal_reason = fields.String(required=True, allow_none=True)
    triaged_by = fields.String(required=True, allow_none=True)
    triaged_at = Moment(required=True, allow_none=True)
    purged_at = Moment(required=True, allow_none=True)
    report_event_id = fields.String(
        required=True,
        allow_none=True,
        attribute="source_event_id",
        metadata={"description": "the `event_id` of the usager.report_submitted it came in"},
    )


class CitizenReportPage(Schema):
    items = fields.List(fields.Nested(CitizenReportOut), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class DossierQuery(Schema):
    journal_after = fields.Integer(
        load_default=0,
        validate=validate.Range(0, 2**31 - 1),
        metadata={"description": "journal entries after this sequence number (the previous page's `next_after`)"},
    )
    journal_limit = fields.Integer(load_default=500, validate=validate.Range(1, 1000))


class PactCommitmentOut(Schema):
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    text = fields.String(required=True, allow_none=True)


class AuditPactVersionOut(Schema):
    pact_version = fields.Integer(required=True)
    commitments = fields.List(fields.Nested(PactCommitmentOut), required=True)
    registry_version = fields.Integer(
        required=True, metadata={"description": "the registry standing's version audit first heard it in"}
    )
    seen_at = Moment(required=True)


class ReportCountsOut(Schema):
    total = fields.Integer(required=True)
    by_category = fields.Dict(
        keys=fields.String(validate=validate.OneOf(REPORT_CATEGORIES)), values=fields.Integer(), required=True
    )
    by_status = fields.Dict(keys=fields.String(validate=validate.OneOf(REPORT_STATUSES)), values=fields.Integer(), required=True)
    items = fields.List(
        fields.Nested(CitizenReportOut),
        metadata={"description": "auditors only: the newest 500 reports with their texts (GET /reports has them all)"},
    )


class DecisionOut(Schema):
    seq = fields.Integer(required=True, metadata={"description": "its entry in the journal"})
    decision = fields.String(required=True, validate=validate.OneOf(["confirmed", "resolved"]))
    finding_id = fields.String(required=True)
    open_violations = fields.Integer(required=True)
    audit_version = fields.Integer(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    by = fields.String(required=True, allow_none=True, metadata={"description": "the staff member, if one caused it"})


class JournalEntryOut(Schema):
    seq = fields.Integer(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    recorded_at = Moment(required=True)
    finding_id = fields.String(required=True, allow_none=True)


class JournalPageOut(Schema):
    total = fields.Integer(required=True, metadata={"description": "entries about the service in the journal"})
    entries = fields.List(fields.Nested(JournalEntryOut), required=True)
    next_after = fields.Integer(
        required=True, allow_none=True, metadata={"description": "pass as `journal_after` for the next page; null on the last"}
    )


class DossierOut(Schema):
    service_id = fields.String(required=True)
    registry_status = fields.String(required=True)
    open_violations = fields.Integer(required=True)
    audit_version = fields.Integer(required=True)
    pact_versions = fields.List(fields.Nested(AuditPactVersionOut), required=True)
    findings = fields.List(fields.Nested(FindingOut), required=True)
    reports = fields.Nested(ReportCountsOut, required=True)
    decisions = fields.List(fields.Nested(DecisionOut), required=True)
    journal = fields.Nested(JournalPageOut, required=True)


# ---- answers: what audit's answers show of its objects ------------------------------------------------
# What audit's answers show of its objects: each answer is the dump of its schema (above).


def finding_seen(f, compliance, history=None, report_ids=()):
    """The finding as FindingOut dumps it: with the service's commitment to its principle, from
    the pact audit last heard of, its escalation and its answer (the finding's own fields, when it
    has one) and the reports it is made of; `history`: who did what to it, when the answer shows it."""
    extra = {} if history is None else {"history": history}
    return Answer(
        f,
        commitment=compliance.commitment(f.principle),
        report_ids=list(report_ids),
        escalation=f if f.escalated else None,
        answer=f if f.answered_at is not None else None,
        opened_by_threshold=f.threshold_category is not None,
        **extra,
    )


def findings_seen(uow, findings, compliance):
    """The service's findings, each with its history and its reports."""
    ids = [f.id for f in findings]
    histories, report_ids = uow.staff_log.history(ids), uow.reports.ids_by_finding(ids)
    return [finding_seen(f, compliance, histories[f.id], report_ids.get(f.id, ())) for f in findings]


def finding_answer(uow, finding, compliance):
    """A single finding as answered to staff and to the service: with its history and reports."""
    return out(FindingOut).dump(findings_seen(uow, [finding], compliance)[0])


def report_answer(report):
    """A report as auditors see it: with its text (null once purged)."""
    return out(CitizenReportOut).dump(report)
