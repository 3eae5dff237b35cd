"""Certificates made by the tests (a CA of their own and the certificates it signs: the
`Authority` of spc/cli/certificates.py, which `spc certificates` uses), and servers of the machine's
binaries that take TLS connections only: a PostgreSQL (what `sslmode=verify-full` is tested
against, tests/integration/test_database_tls.py) and a RabbitMQ node (AMQPS and x509 logins,
tests/integration/test_broker_tls.py)."""

import os
import shutil
import subprocess
from pathlib import Path

from spc.cli.certificates import Authority  # noqa: F401 (the tests' CA: the product's own code)
from tests.faults.postgres_pair import _bindir, free_port, fresh_folder, run_postgres_binary


class TlsPostgres:
    """A PostgreSQL server on a port of its own, TLS only (`hostssl`, a scram password; plain
    connections are rejected), its certificate issued by `authority` for `localhost` only."""

    def __init__(self, base, authority, password):
        self.base, self.authority, self.password = Path(base), authority, password
        self.bin, self.port = _bindir(), free_port()
        self.data = self.base / "data"

    def _run(self, *args):
        return run_postgres_binary(self.bin, *args)

    def start(self):
        fresh_folder(self.base)
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        cert, key = self.authority.issue(self.data / "server.crt", self.data / "server.key")
        if os.geteuid() == 0:
            for path in (cert, key):
                shutil.chown(path, "postgres", "postgres")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.base}'\nssl = on\nfsync = off\n"
                "password_encryption = 'scram-sha-256'\n"
            )
        (self.data / "pg_hba.conf").write_text(
            "local all postgres trust\nhostssl all all 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 reject\n"
        )
        self._run("pg_ctl", "-D", self.data, "-l", self.base / "server.log", "-w", "-t", "60", "start")
        self._run(
            "psql",
            "-h",
            self.base,
            "-p",
            self.port,
            "-U",
            "postgres",
            "-c",
            f"CREATE ROLE spc LOGIN PASSWORD '{self.password}'",
            "-c",
            "CREATE DATABASE spc OWNER spc",
        )
        return self

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            run_postgres_binary(self.bin, "pg_ctl", "-D", self.data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, ca, host="localhost", password=None, sslmode="verify-full"):
        return f"postgresql://spc:{password or self.password}@{host}:{self.port}/spc?sslmode={sslmode}&sslrootcert={ca}"


class TlsRabbit:
    """A RabbitMQ node of the machine's rabbitmq-server beside its own broker (own node name,
    ports and folders), listening for AMQPS only, its certificate issued by `authority` for
    `localhost`; it verifies client certificates that authority issued, and logs one in by its
    common name (RabbitMQ's x509 login, plugin rabbitmq_auth_mechanism_ssl)."""

    NODE = "spctls@localhost"

    def __init__(self, base, authority):
        self.base, self.authority = Path(base), authority
        self.port, self.dist_port = free_port(), free_port()

    def _env(self):
        return dict(
            os.environ,
            RABBITMQ_NODENAME=self.NODE,
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base / "log"),
            RABBITMQ_PID_FILE=str(self.base / "pid"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
            RABBITMQ_CONFIG_FILE=str(self.base / "rabbitmq.conf"),
        )

    def ctl(self, *args):
        return subprocess.run(
            ["rabbitmqctl", "-q", "-n", self.NODE, *args], env=self._env(), capture_output=True, text=True, timeout=120
        )

    def start(self):
        """Start the node (one of that name left running by an interrupted run is stopped
        first); on any failure, what was started is stopped."""
        self.ctl("stop")
        self.stop()
        try:
            return self._start()
        except BaseException:
            self.ctl("stop")
            self.stop()
            raise

    def _start(self):
        (self.base / "mnesia").mkdir(parents=True)
        (self.base / "log").mkdir()
        ca = self.authority.write(self.base / "ca.pem")
        cert, key = self.authority.issue(self.base / "server.crt", self.base / "server.key")
        (self.base / "enabled_plugins").write_text("[rabbitmq_auth_mechanism_ssl].\n")
        (self.base / "rabbitmq.conf").write_text(
            "listeners.tcp = none\n"
            f"listeners.ssl.default = 127.0.0.1:{self.port}\n"
            f"ssl_options.cacertfile = {ca}\nssl_options.certfile = {cert}\nssl_options.keyfile = {key}\n"
            "ssl_options.verify = verify_peer\nssl_options.fail_if_no_peer_cert = false\n"
            "auth_mechanisms.1 = PLAIN\nauth_mechanisms.2 = AMQPLAIN\nauth_mechanisms.3 = EXTERNAL\n"
            "ssl_cert_login_from = common_name\n"
        )
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(self.base)], check=True)
            os.chmod(self.base, 0o755)
        # not piped: the detached node would die writing to a pipe closed behind it
        subprocess.run(
            ["rabbitmq-server", "-detached"],
            env=self._env(),
            check=True,
            timeout=60,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import time

        deadline = time.monotonic() + 90
        while True:  # the node registers with epmd a few seconds after -detached returns
            waited = self.ctl("await_startup", "--timeout", "90")
            if waited.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        if waited.returncode != 0:
            raise RuntimeError(f"the TLS node did not start: {waited.stderr.strip()}; see {self.base}/log")
        return self

    def stop(self):
        if (self.base / "pid").exists():
            self.ctl("stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def uri(self, user="guest", password="guest", host="localhost", vhost="/"):
        from urllib.parse import quote

        credentials = f"{user}:{password}@" if user else ""
        return f"amqps://{credentials}{host}:{self.port}/{quote(vhost, safe='')}"
