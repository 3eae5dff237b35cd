"""Issue 25, item 4: the ports SPC's services are given in tests and in `spc demo` are held, not
probed. A reservation keeps each port bound (never listening) for as long as it lives: no other
reservation, and no bind anywhere on the machine, can be given it, yet SPC's server listens on it
and gets its connections."""

import socket

import eventlet
import pytest
import requests

from spc.cli.client import free_port, reserve_ports


def test_fleets_reserved_at_once_never_share_a_port_and_nothing_else_is_given_one():
    fleets = [reserve_ports(["registry", "funding", "distribution", "audit"]) for _ in range(3)]
    held = [port for fleet in fleets for port in fleet.values()]
    assert len(set(held)) == 12
    # the ports any other code on the machine is given meanwhile, as SPC's servers bind them too
    given = {free_port() for _ in range(2000)}
    for _ in range(500):
        given |= set(reserve_ports(["x"]).values())
    assert not given & set(held)
    for fleet in fleets:
        fleet.release()


def test_a_service_listens_on_its_reserved_port_and_gets_every_connection():
    ports = reserve_ports(["audit"])
    server = eventlet.listen(("127.0.0.1", ports["audit"]))  # as nameko's WebServer does (SO_REUSEPORT)
    accepted = []

    def serve():
        for _ in range(20):
            conn, _ = server.accept()
            accepted.append(conn)
            conn.close()

    worker = eventlet.spawn(serve)
    for _ in range(20):
        socket.create_connection(("127.0.0.1", ports["audit"]), timeout=5).close()
    worker.wait()
    assert len(accepted) == 20
    server.close()
    ports.release()


def test_a_server_that_binds_without_reuse_port_cannot_take_a_held_port():
    """Which is why Docker's published ports and the test brokers get free_ports instead."""
    ports = reserve_ports(["x"])
    with socket.socket() as other, pytest.raises(OSError):
        other.bind(("127.0.0.1", ports["x"]))
    ports.release()
    with socket.socket() as other:
        other.bind(("127.0.0.1", ports["x"]))  # released: free again


def test_spc_run_takes_a_reserved_port(tmp_path, amqp_uri):
    """A real service process started on a held port answers on it (the preflight's probe and
    eventlet's listen both accept the held socket)."""
    import subprocess
    import sys
    from tests.e2e.test_cli_errors import clean_env
    from tests.support import TOKENS_ENV, wait_for

    ports = reserve_ports(["registry"])
    env = clean_env(
        AMQP_URI=amqp_uri,
        SPC_BIND="127.0.0.1",
        REGISTRY_PORT=str(ports["registry"]),
        SPC_DATA_DIR=str(tmp_path),
        SPC_ADMIN_TOKENS=TOKENS_ENV,
        REGISTRY_DATABASE_URL=f"sqlite:///{tmp_path / 'registry.db'}",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "spc.cli", "run", "registry"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:

        def live():
            assert proc.poll() is None, "spc run exited"
            return requests.get(f"http://127.0.0.1:{ports['registry']}/health/live", timeout=2).ok

        wait_for("spc run live on its reserved port", live, timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        ports.release()
