"""Configuration from the environment (contract §5), read when a command runs, never at import."""

import os
from dataclasses import dataclass

from spc.shared.core.settings import positive_number
from spc.shared.sql.persistence import database_url
from spc.shared.sql.retention import Retention, RetentionError

from . import embedded
from .fleet import SERVICE_NAMES, spec  # noqa: F401  (config.SERVICE_NAMES: the names, for the CLI)

HTTP_WORKERS = 10  # room in each container's worker pool for admin HTTP requests
LANE_CHOICES = {"all": ("urgent", "bulk"), "urgent": ("urgent",), "bulk": ("bulk",)}  # SPC_LANES
NICE_MAX = 19  # SPC_NICE: the operating system's lowest CPU priority


class ConfigError(Exception):
    """A setting in the environment that SPC cannot use (the CLI says it in one line)."""


def _integer(environ, variable, default):
    value = environ.get(variable, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{variable} must be an integer (got {value!r})") from None


@dataclass(frozen=True)
class Settings:
    amqp_uri: str
    embedded: bool
    environ: dict

    def port(self, service):
        return _integer(self.environ, f"{service.upper()}_PORT", spec(service).port)

    @property
    def bind(self):
        # nosec B104: a service in a container listens on all its interfaces (the pod's or the
        # compose network's); SPC_BIND=127.0.0.1 keeps a host install local
        return self.environ.get("SPC_BIND", "0.0.0.0")  # nosec B104

    def amqp_uri_for(self, service):
        """`<SERVICE>_AMQP_URI`, else AMQP_URI: each service logs in as its own broker user
        (spc-registry...), whose rights are confined to its own queues and event types
        (deploy/rabbitmq/definitions.json), even when one process runs them all (`spc up`)."""
        if self.embedded:
            return self.amqp_uri
        return self.environ.get(f"{service.upper()}_AMQP_URI") or self.amqp_uri

    def amqp_ssl(self, service):
        """TLS to the broker for an amqps:// URI (shared/messaging/broker.amqp_ssl); a file named by
        SPC_AMQP_CA_FILE, SPC_AMQP_CERT_FILE or SPC_AMQP_KEY_FILE that cannot be read is a
        ConfigError, said before anything starts."""
        from spc.shared.messaging.broker import TLS_FILES, amqp_ssl

        for name in TLS_FILES:
            path = self.environ.get(name)
            if path and not os.access(path, os.R_OK):
                raise ConfigError(f"{name}: cannot read {path}")
        if self.environ.get("SPC_AMQP_CERT_FILE") and not self.environ.get("SPC_AMQP_KEY_FILE"):
            raise ConfigError("SPC_AMQP_CERT_FILE needs SPC_AMQP_KEY_FILE (the client certificate's key)")
        return None if self.embedded else amqp_ssl(self.amqp_uri_for(service), self.environ)

    def database_url(self, service, create_dir=True):
        """`<SERVICE>_DATABASE_URL`, else the SQLite file under SPC_DATA_DIR (the folder made
        only when `create_dir`)."""
        return database_url(service, self.environ, create_dir=create_dir)

    def workers(self, variable, default):
        value = _integer(self.environ, variable, default)
        if value < 1:
            raise ConfigError(f"{variable} must be at least 1 (got {value})")
        return value

    @property
    def lanes(self):
        """The lanes this process consumes (SPC_LANES: all, urgent or bulk): an operator may run a
        service's urgent lanes (violations, decisions, standings) in a process of their own."""
        value = self.environ.get("SPC_LANES", "all").strip().lower()
        if value not in LANE_CHOICES:
            raise ConfigError(f"SPC_LANES must be one of {', '.join(LANE_CHOICES)} (got {value!r})")
        return LANE_CHOICES[value]

    @property
    def nice(self):
        """How much lower than the default this process's CPU priority is (SPC_NICE: 0 to 19, as
        `nice`): a process that runs only bulk lanes (`--lanes bulk`) with, say, 10 leaves the
        cores to the urgent lanes' processes beside it on one host whenever both want them
        (docs/deploy.md, "The urgent lanes apart"; in containers the cgroup's CPU weight does it)."""
        value = _integer(self.environ, "SPC_NICE", 0)
        if not 0 <= value <= NICE_MAX:
            raise ConfigError(f"SPC_NICE must be from 0 to {NICE_MAX} (got {value})")
        return value

    def seconds(self, variable, default):
        return positive_number(self.environ, variable, default, "seconds", error=ConfigError)

    @property
    def identity_registry(self):
        """The national registries' API the registry asks about declared identities
        (SPC_IDENTITY_REGISTRY: a base URL, e.g. https://recherche-entreprises.api.gouv.fr), or None
        (unset or `off`: nothing is asked, services stay `unverified`)."""
        value = (self.environ.get("SPC_IDENTITY_REGISTRY") or "off").strip()
        if value.lower() in ("off", "none", ""):
            return None
        if not value.lower().startswith(("https://", "http://")):
            raise ConfigError(f"SPC_IDENTITY_REGISTRY must be an http(s) URL or off (got {value!r})")
        return value

    @property
    def api_entreprise(self):
        """API Entreprise, for associations known only by their RNA number: SPC_API_ENTREPRISE_TOKEN
        and SPC_API_ENTREPRISE_RECIPIENT (the SIRET of the administration that holds the token,
        which every call names), SPC_API_ENTREPRISE_URL. None without a token."""
        token = (self.environ.get("SPC_API_ENTREPRISE_TOKEN") or "").strip()
        if not token:
            return None
        recipient = (self.environ.get("SPC_API_ENTREPRISE_RECIPIENT") or "").strip()
        if not (len(recipient) == 14 and recipient.isdigit()):
            raise ConfigError(
                "SPC_API_ENTREPRISE_RECIPIENT must be the 14-digit SIRET of the administration "
                f"that holds the token (got {recipient!r})"
            )
        return {
            "token": token,
            "recipient": recipient,
            "url": self.environ.get("SPC_API_ENTREPRISE_URL") or "https://entreprise.api.gouv.fr",
        }

    @property
    def demarches_simplifiees(self):
        """Applications from Démarches Simplifiées (docs/integrating.md): SPC_DS_TOKEN (an API
        token of the démarches' administrator), SPC_DS_MAPPINGS (a folder of <démarche>.toml
        mapping files), SPC_DS_WEBHOOK_SECRET (the secret in the webhook's URL, 32 characters
        at least), SPC_DS_URL (DS's GraphQL endpoint). None without a token."""
        token = (self.environ.get("SPC_DS_TOKEN") or "").strip()
        if not token:
            return None
        mappings, secret = self.environ.get("SPC_DS_MAPPINGS"), self.environ.get("SPC_DS_WEBHOOK_SECRET") or ""
        if not mappings or not os.path.isdir(mappings):
            raise ConfigError(
                "SPC_DS_MAPPINGS must name a folder of <démarche>.toml mapping files "
                + (f"(got {mappings!r}, not a folder)" if mappings else "(not set)")
            )
        if len(secret) < 32:
            raise ConfigError("SPC_DS_WEBHOOK_SECRET must be at least 32 characters (the webhook's URL carries it)")
        from spc.services.registry.demarches import load_mappings

        try:
            load_mappings(mappings)
        except (ValueError, OSError) as exc:
            raise ConfigError(str(exc)) from None
        write_back = (self.environ.get("SPC_DS_WRITE_BACK") or "false").strip().lower() in ("1", "true", "yes")
        instructeur = (self.environ.get("SPC_DS_INSTRUCTEUR_ID") or "").strip()
        if write_back and not instructeur:
            raise ConfigError("SPC_DS_WRITE_BACK needs SPC_DS_INSTRUCTEUR_ID (the DS instructor the messages come from)")
        since = (self.environ.get("SPC_DS_SINCE") or "").strip() or None
        if since:
            from datetime import datetime

            try:
                datetime.fromisoformat(since)
            except ValueError:
                raise ConfigError(
                    f"SPC_DS_SINCE must be an ISO 8601 date and time, e.g. 2027-01-01T00:00:00+01:00 (got {since!r})"
                ) from None
        return {
            "token": token,
            "mappings": mappings,
            "secret": secret,
            "since": since,
            "write_back": instructeur if write_back else None,
            "url": self.environ.get("SPC_DS_URL") or "https://www.demarches-simplifiees.fr/api/v2/graphql",
        }

    @property
    def unknown_service_window(self):
        """How long audit keeps a fact about a service it has not heard of (SPC_UNKNOWN_SERVICE_WINDOW)."""
        return self.seconds("SPC_UNKNOWN_SERVICE_WINDOW", 3600)

    @property
    def retention(self):
        """What each service keeps, and how long (shared/sql/retention.py: SPC_INBOX_RETENTION_DAYS...).
        The inbox must outlive the unknown-service window: a parked fact's inbox record is what
        makes a copy of it a duplicate until it is applied or dead-lettered."""
        try:
            policy = Retention.from_environ(self.environ)
        except RetentionError as exc:
            raise ConfigError(str(exc)) from None
        if policy.inbox_days * 86400 <= self.unknown_service_window:
            raise ConfigError(
                f"SPC_INBOX_RETENTION_DAYS ({policy.inbox_days:g} days) must be longer than "
                f"SPC_UNKNOWN_SERVICE_WINDOW ({self.unknown_service_window:g} s): a copy of a "
                "fact still waiting for its service would be applied twice"
            )
        return policy

    @property
    def dual_control(self):
        """Which amounts of money need two people (funding): SPC_DUAL_CONTROL_CENTS (unset or `off`:
        none; 0: every amount; N: above N cents), a request waiting SPC_DUAL_CONTROL_EXPIRY_SECONDS
        (a week by default) for its approval."""
        from spc.services.funding.domain.approvals import WEEK, DualControl

        raw = (self.environ.get("SPC_DUAL_CONTROL_CENTS") or "off").strip().lower()
        expiry = self.seconds("SPC_DUAL_CONTROL_EXPIRY_SECONDS", WEEK)
        if raw in ("off", "none", ""):
            return DualControl(None, expiry)
        threshold = _integer(self.environ, "SPC_DUAL_CONTROL_CENTS", None)
        if threshold < 0:
            raise ConfigError(f"SPC_DUAL_CONTROL_CENTS must be 0 or more cents, or off (got {threshold})")
        return DualControl(threshold, expiry)

    @property
    def smtp(self):
        """The SMTP relay the registry e-mails reminders through (SPC_SMTP_URL, SPC_SMTP_FROM), or
        None (unset: reminders are events and agenda entries only, no e-mail)."""
        from spc.shared.messaging.smtp import Smtp, SmtpConfigError

        url = (self.environ.get("SPC_SMTP_URL") or "").strip()
        if not url:
            return None
        try:
            return Smtp.from_url(
                url,
                (self.environ.get("SPC_SMTP_FROM") or "").strip() or "no-reply@localhost",
                self.seconds("SPC_SMTP_TIMEOUT", 10),
            )
        except SmtpConfigError as exc:
            raise ConfigError(str(exc)) from None

    @property
    def traces(self):
        """Whether the standard OTEL_* variables ask for traces (OTEL_EXPORTER_OTLP_ENDPOINT...),
        checked: SPC exports OTLP over HTTP only (shared/observe/tracing.py)."""
        from spc.shared.observe.tracing import TracingSettingError, check_settings, wanted

        try:
            check_settings(self.environ)
        except TracingSettingError as exc:
            raise ConfigError(str(exc)) from None
        return wanted(self.environ)

    def check_audit_settings(self):
        """Audit's own settings (SPC_JOURNAL_CHECKPOINT_SECONDS, SPC_REPORT_THRESHOLD,
        SPC_REPORT_WINDOW_DAYS, SPC_REPORT_RETENTION_DAYS), checked before it starts so that a wrong
        one is the CLI's one line, not a traceback from its container; audit reads them from ENV."""
        from spc.services.audit.settings import journal_checkpoint_seconds, report_policy

        try:
            journal_checkpoint_seconds(self.environ)
            report_policy(self.environ)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def open_database(self, service, migrate=True, url=None):
        """The service's database (migrated), outside nameko: for the CLI and the tests."""
        return spec(service).open(url or database_url(service, self.environ), migrate)

    def service_config(self, service):
        if service == "audit":
            self.check_audit_settings()
        return {
            "AMQP_URI": self.amqp_uri_for(service),
            "AMQP_SSL": self.amqp_ssl(service),  # nameko's key: its consumers' TLS; the publishers' too
            "DATABASE_URL": database_url(service, self.environ),
            "WEB_SERVER_ADDRESS": f"{self.bind}:{self.port(service)}",
            # bulk lanes share SPC_MAX_WORKERS; urgent lanes (violations, standings) have their
            # own SPC_URGENT_WORKERS; the container's pool also leaves room for HTTP requests
            "BULK_WORKERS": self.workers("SPC_MAX_WORKERS", 10),
            "URGENT_WORKERS": self.workers("SPC_URGENT_WORKERS", 4),
            "max_workers": self.workers("SPC_MAX_WORKERS", 10) + self.workers("SPC_URGENT_WORKERS", 4) + HTTP_WORKERS,
            "HEARTBEAT": _integer(self.environ, "SPC_HEARTBEAT", 30),
            "LANES": self.lanes,
            # off where a migration step runs before the service (compose, Kubernetes Jobs)
            "MIGRATE": self.environ.get("SPC_MIGRATE", "true").lower() not in ("0", "false", "no"),
            "UNKNOWN_SERVICE_WINDOW": self.unknown_service_window,
            "RETENTION": self.retention,
            "PRUNE_SECONDS": self.seconds("SPC_PRUNE_SECONDS", 600),
            "IDENTITY_RECHECK_SECONDS": self.seconds("SPC_IDENTITY_RECHECK_SECONDS", 300),
            "IDENTITY_REGISTRY": self.identity_registry,
            "API_ENTREPRISE": self.api_entreprise,
            "IDENTITY_TIMEOUT": self.seconds("SPC_IDENTITY_TIMEOUT", 5),
            "DS": self.demarches_simplifiees,
            "DS_POLL_SECONDS": self.seconds("SPC_DS_POLL_SECONDS", 300),
            "DUAL_CONTROL": self.dual_control,
            "REMINDER_SECONDS": self.seconds("SPC_REMINDER_SECONDS", 3600),
            "REMINDER_DAYS": self.workers("SPC_REMINDER_DAYS", 14),
            "SMTP": self.smtp,
            "MAIL_SECONDS": self.seconds("SPC_MAIL_SECONDS", 10),
            "TRACES": self.traces,  # read by shared/observe/tracing.py from ENV; checked here, at start
            "ENV": self.environ,
        }


def load(environ=None, allow_embedded=True):
    environ = dict(os.environ if environ is None else environ)
    uri = environ.get("AMQP_URI")
    if uri:
        return Settings(uri, False, environ)
    if not allow_embedded:
        raise ConfigError("AMQP_URI is not set: this command needs a RabbitMQ (only `spc up` and `spc demo` run embedded)")
    embedded.register()
    return Settings(embedded.EMBEDDED_URI, True, environ)
