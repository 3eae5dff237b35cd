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
    """{name: port}, each free now and all different, then let go: for servers that do not listen
    with SO_REUSEPORT (Docker's published ports, RabbitMQ). SPC's own servers get reserve_ports."""
    ports = {}
    while len(ports) < len(names):
        port = free_port()
        if port not in ports.values():
            ports[names[len(ports)]] = port
    return ports


class Reservation(dict):
    """{name: port}, each port held by this process for as long as the reservation lives: a
    socket bound to it with SO_REUSEADDR and SO_REUSEPORT that never listens. The kernel gives a
    held port to no other bind, here or in another process, so two sets of services started at
    once can never be given the same port (eventlet listens with SO_REUSEPORT: two services on
    one port would split its requests); SPC's servers, which listen with SO_REUSEPORT as the same
    user, still take it, and connections go to them (a socket that never listens gets none)."""

    def __init__(self, names, host="127.0.0.1"):
        super().__init__()
        self._held = []
        for name in names:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, 0))
            self._held.append(sock)
            self[name] = sock.getsockname()[1]

    def release(self):
        for sock in self._held:
            sock.close()
        self._held = []

    def __del__(self):
        self.release()


def reserve_ports(names):
    """A Reservation of a port for each name, held until it is released or dropped."""
    return Reservation(names)


class StaffClient:
    def __init__(self, ports, tokens, host="127.0.0.1", timeout=15):
        self.ports, self.tokens, self.host, self.timeout = ports, tokens, host, timeout

    def call(self, method, service, path, role="viewer", body=None, headers=None):
        """The raw answer of `service` (role None: no token)."""
        headers = {**({"Authorization": f"Bearer {self.tokens[role]}"} if role else {}), **(headers or {})}
        return requests.request(
            method, f"http://{self.host}:{self.ports[service]}{path}", json=body, headers=headers, timeout=self.timeout
        )
