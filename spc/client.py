"""A small client of the services' admin HTTP APIs, as staff tools call them (one bearer token
per role); used by `spc demo` and the tests."""
import socket

import requests


def free_port():
    """A TCP port free on this machine right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(names):
    """{name: port}, each free now and all different: the HTTP servers listen with SO_REUSEPORT
    (eventlet), so two services given the same port would share its requests."""
    ports = {}
    while len(ports) < len(names):
        port = free_port()
        if port not in ports.values():
            ports[names[len(ports)]] = port
    return ports


class StaffClient:
    def __init__(self, ports, tokens, host="127.0.0.1", timeout=15):
        self.ports, self.tokens, self.host, self.timeout = ports, tokens, host, timeout

    def call(self, method, service, path, role="viewer", body=None, headers=None):
        """The raw answer of `service` (role None: no token)."""
        headers = {**({"Authorization": f"Bearer {self.tokens[role]}"} if role else {}), **(headers or {})}
        return requests.request(method, f"http://{self.host}:{self.ports[service]}{path}", json=body,
                                headers=headers, timeout=self.timeout)
