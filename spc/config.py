"""Configuration from the environment (contract §5), read when a command runs, never at import."""
import os
from dataclasses import dataclass

from spc.shared.persistence import database_url

from . import embedded

DEFAULT_PORTS = {"registry": 8001, "funding": 8002, "distribution": 8003, "audit": 8004}
SERVICE_NAMES = tuple(DEFAULT_PORTS)


@dataclass(frozen=True)
class Settings:
    amqp_uri: str
    embedded: bool
    environ: dict

    def port(self, service):
        return int(self.environ.get(f"{service.upper()}_PORT", DEFAULT_PORTS[service]))

    def service_config(self, service):
        return {
            "AMQP_URI": self.amqp_uri,
            "DATABASE_URL": database_url(service, self.environ),
            "WEB_SERVER_ADDRESS": f"{self.environ.get('SPC_BIND', '0.0.0.0')}:{self.port(service)}",
            "max_workers": int(self.environ.get("SPC_MAX_WORKERS", 10)),
            "HEARTBEAT": int(self.environ.get("SPC_HEARTBEAT", 30)),
            "ENV": self.environ,
        }


def load(environ=None, allow_embedded=True):
    environ = dict(os.environ if environ is None else environ)
    uri = environ.get("AMQP_URI")
    if uri:
        return Settings(uri, False, environ)
    if not allow_embedded:
        raise SystemExit("AMQP_URI is not set: `spc run` needs a RabbitMQ (use `spc up` to run embedded)")
    embedded.register()
    return Settings(embedded.EMBEDDED_URI, True, environ)
