"""Audit's error catalogue: what its use cases refuse, each with its stable code."""
from spc.shared.errors import Conflict, NotFound, NotYetKnown


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
