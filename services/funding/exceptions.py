"""Funding's error catalogue: what its use cases refuse, each with its stable code."""

from spc.shared.core.errors import Conflict, InvalidRequest, NotFound, NotYetKnown


class ProgrammeNotFound(NotFound):
    """No programme has this id."""


class TrancheNotFound(NotFound):
    """No tranche has this id."""


class GrantNotFound(NotFound):
    """No grant has this id."""


class ApprovalNotFound(NotFound):
    """No request for approval has this id."""


class InvalidAmount(InvalidRequest):
    """A budget or an amount must be a positive integer number of cents; a grant needs a tranche."""


class InvalidFunder(InvalidRequest):
    """The programme's funder is not valid: a name, and a SIRET (14 digits) or a SIREN (9 digits)
    passing the Luhn check; `details.fields` names each problem."""


class OverBudget(Conflict):
    """The grant exceeds what is left of the programme's budget."""

    code = "over_budget"


class ServiceNotActive(Conflict):
    """The service is suspended, expired or revoked: it may not receive a grant."""

    code = "service_not_active"


class ServiceNotActiveYet(NotYetKnown, Conflict):
    """Funding has not heard the service approved (perhaps a moment ago): retry after
    `Retry-After` seconds."""

    code = "service_not_active"


class AlreadyReleased(Conflict):
    """The tranche was released already: a payment order is sent once per tranche, ever."""

    code = "already_released"


class ReleaseBeforeDueDate(Conflict):
    """The tranche is not due yet: a release before its due date states a `reason`."""

    code = "release_before_due_date"


class FundingFrozen(Conflict):
    """The service is suspended, or its pact's term ended: its funding is frozen."""

    code = "funding_frozen"


class TrancheCancelled(Conflict):
    """The tranche was cancelled when the service was revoked."""

    code = "tranche_cancelled"


class NothingToRevoke(Conflict):
    """Every tranche of the grant was released or cancelled already: nothing is left to revoke."""

    code = "nothing_to_revoke"


class DualControlRequired(Conflict):
    """The amount is above SPC_DUAL_CONTROL_CENTS: one funding officer requests it
    (`POST /approvals`), another approves it (`POST /approvals/{id}/approve`)."""

    code = "dual_control_required"


class ApprovalPending(Conflict):
    """A request for the same change is already waiting for its approval (`details.approval_id`)."""

    code = "approval_pending"


class SameApprover(Conflict):
    """The approval must come from another person than the request's (token label or OIDC subject)."""

    code = "same_approver"


class ApprovalNotPending(Conflict):
    """The request was approved, rejected or expired already: it is answered once."""

    code = "approval_not_pending"


class ApprovalExpired(Conflict):
    """The request waited longer than SPC_DUAL_CONTROL_EXPIRY_SECONDS: make a new one."""

    code = "approval_expired"


class BudgetNotRaised(Conflict):
    """A new budget must be above the programme's current one (it is only ever raised here)."""

    code = "budget_not_raised"
