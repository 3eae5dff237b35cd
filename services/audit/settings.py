"""Audit's settings from the environment, read when the container starts (never at import)."""

import os

from nameko.extensions import DependencyProvider

from spc.shared.core.settings import positive_number

from .domain.reports import ReportPolicy
from .handlers import DEFAULT_CHECKPOINT_SECONDS

REPORT_SETTINGS = {
    "threshold": "SPC_REPORT_THRESHOLD",
    "window_days": "SPC_REPORT_WINDOW_DAYS",
    "retention_days": "SPC_REPORT_RETENTION_DAYS",
}


def report_policy(environ):
    """The report policy from SPC_REPORT_THRESHOLD, SPC_REPORT_WINDOW_DAYS and
    SPC_REPORT_RETENTION_DAYS (whole numbers, at least 1; the domain's defaults when unset)."""
    values = {}
    for name, variable in REPORT_SETTINGS.items():
        raw = environ.get(variable)
        if raw in (None, ""):
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            raise ValueError(f"{variable} must be a whole number (got {raw!r})") from None
        if values[name] < 1:
            raise ValueError(f"{variable} must be at least 1 (got {raw})")
    return ReportPolicy(**values)


class ReportSettings(DependencyProvider):
    """Injects the report policy (threshold, window, retention), read in setup()."""

    def setup(self):
        self.policy = report_policy(self.container.config.get("ENV", os.environ))

    def get_dependency(self, worker_ctx):
        return self.policy


CHECKPOINT_SETTING = "SPC_JOURNAL_CHECKPOINT_SECONDS"


def journal_checkpoint_seconds(environ):
    """SPC_JOURNAL_CHECKPOINT_SECONDS: the least time between two checkpoints of the journal's head
    (a positive number of seconds; default 300)."""
    return positive_number(environ, CHECKPOINT_SETTING, DEFAULT_CHECKPOINT_SECONDS, "seconds")


class JournalCheckpointSetting(DependencyProvider):
    """Injects the least seconds between two checkpoints of the journal's head, read in setup()."""

    def setup(self):
        self.seconds = journal_checkpoint_seconds(self.container.config.get("ENV", os.environ))

    def get_dependency(self, worker_ctx):
        return self.seconds
