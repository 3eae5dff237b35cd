"""Runs service containers: one nameko ServiceRunner per service (each with its own port)."""
import logging

import eventlet
from nameko.runners import ServiceRunner

from .config import SERVICE_NAMES

log = logging.getLogger(__name__)


def service_class(name):
    if name == "registry":
        from spc.services.registry.service import RegistryService as cls
    elif name == "funding":
        from spc.services.funding.service import FundingService as cls
    elif name == "distribution":
        from spc.services.distribution.service import DistributionService as cls
    elif name == "audit":
        from spc.services.audit.service import AuditService as cls
    else:
        raise ValueError(f"unknown service {name!r}; choose from {', '.join(SERVICE_NAMES)}")
    return cls


class Cluster:
    """Several services in one process, started and stopped together."""

    def __init__(self, settings, names=SERVICE_NAMES):
        self.settings = settings
        self.runners = {}
        for name in names:
            runner = ServiceRunner(settings.service_config(name))
            runner.add_service(service_class(name))
            self.runners[name] = runner

    def start(self):
        for name, runner in self.runners.items():
            runner.start()
            log.info("%s listening on port %s", name, self.settings.port(name))
        return self

    def stop(self):
        for runner in self.runners.values():
            runner.stop()

    def kill(self):
        for runner in self.runners.values():
            runner.kill()

    def wait(self):
        threads = [eventlet.spawn(r.wait) for r in self.runners.values()]
        for thread in threads:
            thread.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
