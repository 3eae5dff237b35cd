"""The registry's error catalogue: what its use cases refuse, each with its stable code."""
from spc.shared.errors import Conflict, InvalidRequest, NotFound


class ServiceNotFound(NotFound):
    """No registered service has this id."""


class InvalidPact(InvalidRequest):
    """The pact breaks one or more rules; `details.fields` names each."""


class IllegalTransition(Conflict):
    """The service's status does not allow this change (e.g. approving an active service)."""
    code = "illegal_transition"


class OpenViolations(Conflict):
    """The service has open violations: it cannot be approved until they are resolved."""
    code = "open_violations"
