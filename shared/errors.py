"""Error types shared by every service: domain errors map once to HTTP, rejections to the DLQ."""


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


class Rejection(Exception):
    """A message that can never be processed: it goes to the dead-letter queue with `reason`."""

    def __init__(self, code, message=""):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message

    @property
    def header(self):
        return f"{self.code}: {self.message}"[:900] if self.message else self.code
