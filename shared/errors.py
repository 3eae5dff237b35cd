"""Error types shared by every service: domain errors map once to HTTP, rejections to the DLQ."""
import time


class DomainError(Exception):
    """A business rule refused the request; `code` is stable, `status` is its HTTP mapping."""

    code = "domain_error"
    status = 409

    def __init__(self, message, details=None, code=None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidRequest(DomainError):
    code = "invalid_request"
    status = 400


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class NotYetKnown(Conflict):
    """The request names a service this service has not heard of yet. Registry events travel
    asynchronously, so right after an approval this is usually a matter of milliseconds: the use
    case waits a little (`until_known`), then answers with `Retry-After`."""

    status = 409
    retry_after = 1

    def __init__(self, message, details=None, code="service_not_known_yet", status=None):
        super().__init__(message, details, code)
        if status is not None:
            self.status = status


KNOWN_WAIT_SECONDS = 3.0


def until_known(use_case, wait_seconds=KNOWN_WAIT_SECONDS):
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

    def __init__(self, code, message=""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message

    @property
    def header(self):
        return f"{self.code}: {self.message}"[:900] if self.message else self.code
