"""A PostgreSQL primary and its streaming standby on this machine, beside the machine's own server
(issue 27): two clusters of the machine's PostgreSQL binaries, each on a port of its own, the
standby made by `pg_basebackup` and following the primary's WAL. For the database failover
faults (tests/faults/test_database_failover.py) and for trying SPC's failover by hand:

    python -m tests.faults.postgres_pair /tmp/pair           # start a pair (synchronous; --async): prints
    #   SPC's URLs and, last, the primary's and the standby's ports (STANDBY_PORT below)
    # ... export each printed *_DATABASE_URL for SPC, then:
    kill -9 $(head -1 /tmp/pair/primary/postmaster.pid)       # lose the primary (its backends follow)
    runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl" promote -D /tmp/pair/standby
    # synchronous: the promoted standby waits for a standby of its own at every commit (writes
    # hang until this is done): clear it right after the promotion
    psql -h 127.0.0.1 -p STANDBY_PORT -U postgres -c "ALTER SYSTEM SET synchronous_standby_names = ''" \
         -c "SELECT pg_reload_conf()"
    python -m tests.faults.postgres_pair /tmp/pair --stop    # stop both, remove the folder

SPC reaches the pair with a multi-host URL (libpq's, through psycopg 3):
`postgresql://postgres@/DB?host=127.0.0.1:P1&host=127.0.0.1:P2&target_session_attrs=read-write`.
libpq tries the hosts in turn and keeps the first that accepts writes, so a connection made after
the promotion lands on the new primary, and none ever lands on a standby (it would refuse
writes).

`synchronous=True` sets `synchronous_standby_names` (the standby's `application_name`) and
`synchronous_commit = on`: a commit is acknowledged once the standby has flushed it. Without it
(PostgreSQL's default, asynchronous) a commit is acknowledged by the primary alone, and what the
standby had not yet received is lost when the primary is."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

STANDBY_NAME = "spc_standby"


def _bindir():
    base = Path("/usr/lib/postgresql")
    versions = (
        sorted((p for p in base.iterdir() if (p / "bin" / "pg_ctl").exists()), key=lambda p: int(p.name)) if base.exists() else []
    )
    if not versions:
        raise RuntimeError("PostgreSQL's server binaries are not under /usr/lib/postgresql/*/bin")
    return versions[-1] / "bin"


def run_postgres_binary(bindir, *args, check=True):
    """One of PostgreSQL's server binaries, as the postgres user (initdb and postgres refuse root)."""
    cmd = [str(bindir / args[0]), *map(str, args[1:])]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)


def fresh_folder(path):
    """`path` emptied and made, owned by the postgres user (which runs the servers there)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresPair:
    def __init__(self, base, synchronous=True, fsync=False):
        self.base, self.synchronous, self.fsync = Path(base), synchronous, fsync
        self.bin = _bindir()
        self.ports = {"primary": free_port(), "standby": free_port()}
        self.dirs = {role: self.base / role for role in self.ports}

    # -- running the binaries as the postgres user (initdb and postgres refuse root) --
    def _run(self, *args, check=True):
        return run_postgres_binary(self.bin, *args, check=check)

    def _pg_ctl(self, role, *args, check=True):
        return self._run("pg_ctl", "-D", self.dirs[role], "-l", self.base / f"{role}.log", "-w", "-t", "60", *args, check=check)

    def start(self):
        """Both servers up and streaming; on any failure, what was started is stopped again."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        fresh_folder(self.base)
        primary = self.dirs["primary"]
        self._run("initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(self._settings("primary"))
        with open(primary / "pg_hba.conf", "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        self._pg_ctl("primary", "start")
        standby = self.dirs["standby"]
        self._run(
            "pg_basebackup",
            "-D",
            standby,
            "-h",
            "127.0.0.1",
            "-p",
            self.ports["primary"],
            "-U",
            "postgres",
            "-X",
            "stream",
            "-R",
            "-c",
            "fast",
        )
        with open(standby / "postgresql.auto.conf", "a") as conf:
            conf.write(f"port = {self.ports['standby']}\n")
            conf.write(
                f"primary_conninfo = 'host=127.0.0.1 port={self.ports['primary']} user=postgres "
                f"application_name={STANDBY_NAME}'\n"
            )
        self._pg_ctl("standby", "start")
        self.wait_streaming()
        return self

    def _settings(self, role):
        lines = [
            f"port = {self.ports[role]}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.base}'",
            "wal_level = replica",
            "max_wal_senders = 5",
            "hot_standby = on",
            "max_connections = 300",
            "wal_receiver_status_interval = 1s",
        ]
        if not self.fsync:  # a process crash is the fault here, not a power cut: the page cache survives
            lines += ["fsync = off", "full_page_writes = off"]
        if self.synchronous:
            lines += [f"synchronous_standby_names = '{STANDBY_NAME}'", "synchronous_commit = on"]
        return "\n" + "\n".join(lines) + "\n"

    def sql(self, role, statement, db="postgres"):
        out = self._run("psql", "-h", "127.0.0.1", "-p", self.ports[role], "-U", "postgres", "-d", db, "-Atqc", statement)
        return out.stdout.strip()

    def wait_streaming(self, timeout=60):
        deadline = time.monotonic() + timeout
        want = "sync" if self.synchronous else "async"
        while time.monotonic() < deadline:
            state = self.sql(
                "primary", f"SELECT state || ' ' || sync_state FROM pg_stat_replication WHERE application_name = '{STANDBY_NAME}'"
            )
            if state == f"streaming {want}":
                return
            time.sleep(0.2)
        raise RuntimeError(f"the standby is not streaming ({state!r}); see {self.base}/standby.log")

    def create_database(self, name):
        self.sql("primary", f'CREATE DATABASE "{name}"')

    def url(self, db):
        """SPC's database URL for `db`: both hosts, a connection only to the one that takes writes."""
        hosts = "&".join(f"host=127.0.0.1:{self.ports[r]}" for r in ("primary", "standby"))
        return f"postgresql://postgres@/{db}?{hosts}&target_session_attrs=read-write"

    def single_url(self, role, db):
        return f"postgresql://postgres@127.0.0.1:{self.ports[role]}/{db}"

    def postmaster_pid(self, role):
        return int((self.dirs[role] / "postmaster.pid").read_text().split()[0])

    def wal_sender_pid(self):
        """The primary's process streaming WAL to the standby: stopped (SIGSTOP), the standby lags
        (stopping the standby's receiver would not do: the kernel's socket buffer would still
        take the WAL, and the receiver read it once woken)."""
        return int(self.sql("primary", f"SELECT pid FROM pg_stat_replication WHERE application_name = '{STANDBY_NAME}'"))

    def crash(self, role="primary"):
        """SIGKILL the server and every process of it at once, as when its container or machine dies."""
        pid = self.postmaster_pid(role)
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for p in [pid, *map(int, children)]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)

    def promote(self):
        """Promote the standby. With synchronous replication it inherited the primary's
        `synchronous_standby_names` (pg_basebackup copies the configuration): with no standby of
        its own yet, every commit would wait for one forever. Like CloudNativePG with
        `dataDurability: preferred`, the new primary then commits alone until a standby joins
        (`required` would make writes wait for it instead)."""
        self._pg_ctl("standby", "promote")
        deadline = time.monotonic() + 60
        while self.sql("standby", "SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > deadline:
                raise RuntimeError("the standby was not promoted")
            time.sleep(0.1)
        if self.synchronous:
            self.sql("standby", "ALTER SYSTEM SET synchronous_standby_names = ''")
            self.sql("standby", "SELECT pg_reload_conf()")

    def stop(self):
        for role in self.dirs:
            if (self.dirs[role] / "postmaster.pid").exists():
                self._pg_ctl(role, "stop", "-m", "immediate", check=False)
        shutil.rmtree(self.base, ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    base = args[0] if args else "/tmp/spc-postgres-pair"
    if "--stop" in sys.argv:
        PostgresPair(base).stop()
        sys.exit(0)
    pair = PostgresPair(base, synchronous="--async" not in sys.argv).start()
    for name in ("registry", "funding", "distribution", "audit"):
        pair.create_database(f"spc_{name}")
        print(f"{name.upper()}_DATABASE_URL='{pair.url(f'spc_{name}')}'")
    print(
        f"# primary {pair.dirs['primary']} (port {pair.ports['primary']}), "
        f"standby {pair.dirs['standby']} (port {pair.ports['standby']}), "
        f"{'synchronous' if pair.synchronous else 'asynchronous'} replication"
    )
