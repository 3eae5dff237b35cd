"""TLS to PostgreSQL (docs/deploy.md, "TLS to the databases"): SPC's database URL with
`sslmode=verify-full&sslrootcert=<CA>` (libpq's, through psycopg 3) against a PostgreSQL of the
machine's binaries that takes TLS connections only, its certificate made by the test's own CA.
A wrong CA and a wrong host name are refused with one clear line, a plain connection is
refused by the server, and the password never shows: not in a log line, not in an error, not in
the process list."""

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from spc.runtime import config
from tests.tls import Authority, TlsPostgres

PASSWORD = "Db-s3cret-9f2c41"


@pytest.fixture(scope="module")
def server():
    import shutil
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix="spc-tls-"))  # the postgres user must reach it (not pytest's 0700 folders)
    os.chmod(base, 0o755)
    ca = Authority()
    pg = TlsPostgres(base / "pg", ca, PASSWORD).start()
    pg.ca = ca.write(base / "ca.pem")
    pg.other_ca = Authority("Another CA").write(base / "other-ca.pem")
    yield pg
    pg.stop()
    shutil.rmtree(base, ignore_errors=True)


def spc(*args, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "spc.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
    )


def test_spc_works_over_verified_tls(server):
    database = config.load({}).open_database("funding", url=server.url(server.ca))
    try:
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar() is True
            assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 0  # migrated over TLS
    finally:
        database.close()


@pytest.mark.parametrize(
    "make_url,expected",
    [
        (lambda s: s.url(s.other_ca), "certificate verify failed"),
        (lambda s: s.url(s.ca, host="127.0.0.1"), 'does not match host name "127.0.0.1"'),
        (lambda s: s.url(s.ca, sslmode="disable"), "no encryption"),
        (lambda s: s.url(s.ca, password="Wrong-pass-77"), "password authentication failed"),
    ],
)
def test_what_is_refused_is_one_clear_line_without_the_password(server, make_url, expected):
    url = make_url(server)
    result = spc("migrate", "funding", env={"FUNDING_DATABASE_URL": url})
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert expected in lines[-1], result.stderr
    assert len(lines) == 2 and lines[0].startswith("database: postgresql://spc:***@"), result.stderr
    for secret in (PASSWORD, "Wrong-pass-77"):
        assert secret not in result.stderr + result.stdout


def test_a_running_service_shows_its_password_nowhere(server, tmp_path, amqp_uri):
    """`spc run funding` over TLS: the password is in the environment only, never in the process
    list (its command line), nor in a log line, JSON or not."""
    from tests.support import reserve_ports, wait_for
    import requests

    port = reserve_ports(["funding"])["funding"]
    env = dict(
        os.environ,
        AMQP_URI=amqp_uri,
        FUNDING_DATABASE_URL=server.url(server.ca),
        FUNDING_PORT=str(port),
        SPC_BIND="127.0.0.1",
        SPC_LOG_FORMAT="json",
        SPC_DATA_DIR=str(tmp_path),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "spc.cli", "run", "funding"], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for("funding ready", lambda: requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).ok, timeout=60)
        ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
        assert PASSWORD not in ps
        with open(f"/proc/{proc.pid}/cmdline", "rb") as cmdline:
            assert PASSWORD.encode() not in cmdline.read()
        time.sleep(0.5)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0]
    assert '"message"' in out and PASSWORD not in out, out[-2000:]
