"""Error kinds shared by every service: domain errors (mapped once to HTTP in shared/web/http.py),
rejections (to the dead-letter queue)."""

import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A business rule refused the request. Each service's catalogue (services/<name>/
    exceptions.py) subclasses one of the kinds below, with a stable `code` and a docstring that
    openapi.yaml shows; the HTTP status of each kind is decided once, in shared/web/http.py."""

    code = "domain_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    """What the request names does not exist."""

    code = "not_found"


class Conflict(DomainError):
    """A rule refuses the request in the current state of things."""

    code = "conflict"


class InvalidRequest(DomainError):
    """The request is not acceptable, whatever the state."""

    code = "invalid_request"


class Unauthorized(DomainError):
    """No token, or an unknown one."""

    code = "unauthorized"


class Forbidden(DomainError):
    """The token's role may not do this."""

    code = "forbidden"


class NotYetKnown(DomainError):
    """The request names a service this service has not heard of yet. Registry events travel
    asynchronously, so right after an approval this is usually a matter of milliseconds: the use
    case waits a little (`until_known`), then answers with `Retry-After`. Combine with a kind
    (`class UnknownService(NotYetKnown, NotFound)`) for its status."""

    retry_after = 1


KNOWN_WAIT_SECONDS = 3.0


def until_known(use_case: Callable[[], T], wait_seconds: float = KNOWN_WAIT_SECONDS) -> T:
    """Run `use_case()`; while it raises NotYetKnown, try again (a growing pause, up to
    `wait_seconds` in all), then let the error through."""
    deadline, pause = time.monotonic() + wait_seconds, 0.02
    while True:
        try:
            return use_case()
        except NotYetKnown:
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


class Rejection(Exception):
    """A message that can never be processed: it goes to the dead-letter queue with `reason`."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message

    @property
    def header(self) -> str:
        return f"{self.code}: {self.message}"[:900] if self.message else self.code
