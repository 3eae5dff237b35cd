"""Audit's error catalogue: what its use cases refuse, each with its stable code."""

from spc.shared.core.errors import Conflict, NotFound, NotYetKnown


class FindingNotFound(NotFound):
    """No finding has this id."""


class ServiceNotKnown(NotFound):
    """Audit has not heard of this service from the registry."""


class UnknownService(NotYetKnown, NotFound):
    """No registered service has this id, as far as audit knows (if it was approved a moment
    ago, retry after `Retry-After` seconds)."""

    code = "unknown_service"


class AlreadyResolved(Conflict):
    """The finding was resolved already."""

    code = "already_resolved"


class AlreadyAViolation(Conflict):
    """The finding is a violation already (major or critical, or escalated): nothing to escalate."""

    code = "already_a_violation"


class NotAnswered(Conflict):
    """The service has not answered the finding with a remediation plan yet: answer it first."""

    code = "not_answered"


class RemediationAlreadyReported(Conflict):
    """The remediation was reported done already (a new answer, with a new plan, may follow)."""

    code = "remediation_already_reported"


class ReportNotFound(NotFound):
    """No citizen report has this id."""


class ReportAlreadyTriaged(Conflict):
    """The report was dismissed, or made part of a finding, already (`details` says which)."""

    code = "report_already_triaged"


class ReportOfAnotherService(Conflict):
    """A report named is about another service than the finding."""

    code = "report_of_another_service"
