"""Runs service containers: one nameko ServiceRunner per service (each with its own port)."""

import logging

import eventlet
from nameko.runners import ServiceRunner

from .fleet import SERVICE_NAMES, service_class

log = logging.getLogger("spc.runner")  # its records keep their logger name


class Cluster:
    """Several services in one process, started and stopped together."""

    def __init__(self, settings, names=SERVICE_NAMES):
        self.settings = settings
        self.runners = {}
        for name in names:
            runner = ServiceRunner(settings.service_config(name))
            runner.add_service(service_class(name))
            self.runners[name] = runner

    def start(self, quiet=False):
        """Start every service; if one fails, kill those started and raise (a port that cannot be
        bound as ListenError: one line, see spc/cli/preflight.py). `quiet`: eventlet's hub does not
        print the traceback of each greenthread the failure kills on its way up (the exception
        still reaches the caller)."""
        from eventlet import debug
        from spc.cli.preflight import listen_error

        if quiet:
            debug.hub_exceptions(False)
        try:
            started = []
            for name, runner in self.runners.items():
                started.append(runner)
                try:
                    runner.start()
                except Exception as exc:
                    self._kill_quietly(started)
                    error = listen_error(exc, self.settings, name)
                    if error is None:
                        raise
                    raise error from exc
                log.info("%s listening on port %s", name, self.settings.port(name), extra={"service": name})
        finally:
            if quiet:
                debug.hub_exceptions(True)
        return self

    @staticmethod
    def _kill_quietly(runners):
        for runner in runners:
            try:
                runner.kill()
            except Exception:  # already dead or never started: nothing to stop
                log.debug("kill after a failed start", exc_info=True)

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
