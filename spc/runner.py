"""Runs service containers: one nameko ServiceRunner per service (each with its own port)."""
import logging

import eventlet
from nameko.runners import ServiceRunner

from .fleet import SERVICE_NAMES, service_class

log = logging.getLogger(__name__)


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
