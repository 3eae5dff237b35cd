"""Distribution's error catalogue: what its use cases refuse, each with its stable code."""

from spc.shared.core.errors import NotFound


class CounterNotFound(NotFound):
    """No France Services counter has this id."""


class ServiceNotKnown(NotFound):
    """Distribution has not heard of this service from the registry."""
