"""What the command line says when it cannot do its job: one line on stderr naming what failed
(a password never), exit code 2, no traceback, no library's log (issue 10, part 4)."""

import json
import os
import re
import socket
import subprocess
import sys

import pytest
import requests

from spc.cli.client import free_port, reserve_ports
from tests.support import envelope, wait_for

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
SAYS_WHERE = ("broker: ", "database: ")  # the lines a command starts with, naming what it reads


def clean_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SPC_", "AMQP_URI")) and not k.endswith(("_DATABASE_URL", "_PORT"))
    }
    return dict(env, **extra)


def spc(*args, env, timeout=120, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "spc.cli", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd
    )


def failed_in_one_line(result, *expected):
    """Exit 2, and stderr is the one error line (after the line saying which broker or database)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert not [line for line in lines if LOG_LINE.match(line)], result.stderr
    errors = [line for line in lines if not line.startswith(SAYS_WHERE)]
    assert len(errors) == 1, result.stderr
    for text in expected:
        assert text in errors[0], (text, errors[0])
    return errors[0]


def event_file(tmp_path):
    path = tmp_path / "event.json"
    path.write_text(
        json.dumps(
            envelope(
                "compliance.violation_reported",
                {
                    "service_id": "svc_0123456789abcdef0123456789abcdef",
                    "principle": "no_ad_monetisation",
                    "severity": "major",
                    "summary": "Advertising sold",
                    "reported_by": "inspection-35",
                },
            )
        )
    )
    return path


def service_env(tmp_path, **extra):
    ports = reserve_ports(list(("registry", "funding", "distribution", "audit")))
    ports.update({name: int(extra[f"{name.upper()}_PORT"]) for name in ports if f"{name.upper()}_PORT" in extra})
    return ports, clean_env(
        SPC_DATA_DIR=str(tmp_path / "var"),
        SPC_BIND="127.0.0.1",
        **{**{f"{n.upper()}_PORT": str(p) for n, p in ports.items()}, **extra},
    )


# 1. admin tokens


def test_spc_up_on_a_broker_without_admin_tokens_warns_once_on_stderr_then_starts(tmp_path, amqp_uri):
    """Embedded, `spc up` makes tokens of its own (tests/e2e/test_spc_up_local.py); on a broker
    it never does: it warns."""
    ports, env = service_env(tmp_path, AMQP_URI=amqp_uri)
    proc = subprocess.Popen(
        [sys.executable, "-m", "spc.cli", "up"], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:

        def live():
            assert proc.poll() is None, "spc up exited"
            return requests.get(f"http://127.0.0.1:{ports['audit']}/health/live", timeout=2).ok

        wait_for("spc up to start", live, timeout=90)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=60)
    warnings = [line for line in err.splitlines() if "no admin token configured" in line]
    assert len(warnings) == 1, err
    assert warnings[0].startswith("WARNING: ") and "SPC_ADMIN_TOKENS" in warnings[0] and "401" in warnings[0]
    assert "alembic" not in err, err  # its INFO lines are silenced


@pytest.mark.parametrize(
    "tokens, expected",
    [
        ({"SPC_ADMIN_TOKENS": "registrar/ana:s3cret-token,boss:other-secret"}, ["SPC_ADMIN_TOKENS entry 2", "'boss'"]),
        ({"SPC_ADMIN_TOKENS": "auditor:sha256:abcd"}, ["SPC_ADMIN_TOKENS entry 1", "64 hexadecimal"]),
        (
            {"SPC_ADMIN_TOKENS_FILE": "/nonexistent/spc-tokens"},
            ["SPC_ADMIN_TOKENS_FILE", "/nonexistent/spc-tokens", "no such file"],
        ),
    ],
)
def test_a_malformed_token_or_an_unreadable_tokens_file_stops_start_up_in_one_line(tmp_path, tokens, expected):
    _, env = service_env(tmp_path, **tokens)
    line = failed_in_one_line(spc("up", env=env), "spc up: ", *expected)
    assert "s3cret" not in line and "other-secret" not in line


def test_a_malformed_line_of_the_tokens_file_is_named(tmp_path, amqp_uri):
    path = tmp_path / "tokens"
    path.write_text("# staff\nviewer/ana:fine-token\nregistrar fine-but-no-colon\n")
    _, env = service_env(tmp_path, SPC_ADMIN_TOKENS_FILE=str(path), AMQP_URI=amqp_uri)
    failed_in_one_line(spc("run", "registry", env=env), "spc run: ", f"SPC_ADMIN_TOKENS_FILE {path} line 3")


# 2. a port in use


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_spc_up_with_a_port_in_use_says_which_service_port_and_variable(tmp_path, busy_port):
    _, env = service_env(tmp_path, SPC_ADMIN_TOKENS="viewer:v", FUNDING_PORT=str(busy_port))
    failed_in_one_line(
        spc("up", env=env), f"spc up: funding cannot listen on 127.0.0.1:{busy_port} (FUNDING_PORT): address already in use"
    )
    assert not (tmp_path / "var").exists() or not list((tmp_path / "var").iterdir())  # nothing started


def test_spc_run_with_a_port_in_use_says_so_in_one_line(tmp_path, busy_port, amqp_uri):
    _, env = service_env(tmp_path, SPC_ADMIN_TOKENS="viewer:v", AMQP_URI=amqp_uri, REGISTRY_PORT=str(busy_port))
    failed_in_one_line(spc("run", "registry", env=env), f"registry cannot listen on 127.0.0.1:{busy_port} (REGISTRY_PORT)")


def test_spc_run_with_a_retention_that_is_no_number_says_which_setting(tmp_path, amqp_uri):
    _, env = service_env(tmp_path, SPC_ADMIN_TOKENS="viewer:v", AMQP_URI=amqp_uri, SPC_INBOX_RETENTION_DAYS="a month")
    failed_in_one_line(spc("run", "registry", env=env), "SPC_INBOX_RETENTION_DAYS must be a number")


def test_spc_run_with_an_inbox_kept_less_than_the_unknown_service_window_refuses_to_start(tmp_path, amqp_uri):
    """A parked fact's inbox record must outlive the window, or a copy of it is applied twice."""
    _, env = service_env(
        tmp_path,
        SPC_ADMIN_TOKENS="viewer:v",
        AMQP_URI=amqp_uri,
        SPC_INBOX_RETENTION_DAYS="0.01",
        SPC_UNKNOWN_SERVICE_WINDOW="3600",
    )
    failed_in_one_line(
        spc("run", "audit", env=env),
        "SPC_INBOX_RETENTION_DAYS (0.01 days) must be longer than SPC_UNKNOWN_SERVICE_WINDOW (3600 s)",
    )
    _, env = service_env(tmp_path, SPC_ADMIN_TOKENS="viewer:v", AMQP_URI=amqp_uri, SPC_PRUNE_SECONDS="never")
    failed_in_one_line(spc("run", "audit", env=env), "SPC_PRUNE_SECONDS must be a number of seconds")


def test_spc_run_audit_with_a_wrong_setting_of_its_own_says_which_in_one_line(tmp_path, amqp_uri):
    """Audit's own settings are read by its container; they are checked before it starts."""
    _, env = service_env(tmp_path, SPC_ADMIN_TOKENS="viewer:v", AMQP_URI=amqp_uri, SPC_JOURNAL_CHECKPOINT_SECONDS="0")
    failed_in_one_line(spc("run", "audit", env=env), "SPC_JOURNAL_CHECKPOINT_SECONDS must be above 0")
    _, env = service_env(tmp_path, SPC_ADMIN_TOKENS="viewer:v", AMQP_URI=amqp_uri, SPC_REPORT_THRESHOLD="many")
    failed_in_one_line(spc("run", "audit", env=env), "SPC_REPORT_THRESHOLD must be a whole number")


def test_a_bind_that_fails_after_the_check_is_one_line_too(tmp_path, busy_port):
    """The port taken between the check and the bind: the container's failure, not its traceback."""
    _, env = service_env(tmp_path, SPC_ADMIN_TOKENS="viewer:v", AUDIT_PORT=str(busy_port))
    script = (
        "import sys, spc.cli.preflight; spc.cli.preflight.check_ports = lambda *a: None; "
        "sys.argv = ['spc', 'up']; from spc.cli import main; main()"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"spc up: audit cannot listen on 127.0.0.1:{busy_port} (AUDIT_PORT): address already in use"
    )


# 3. spc publish and the broker


def test_spc_publish_with_a_wrong_password_is_one_line_without_the_password(tmp_path, amqp_uri):
    wrong = amqp_uri.replace("guest:guest@", "guest:Wr0ngPassw0rd@")
    assert wrong != amqp_uri
    result = spc("publish", str(event_file(tmp_path)), env=clean_env(AMQP_URI=wrong))
    line = failed_in_one_line(result, "spc publish: the broker refused the login (ACCESS_REFUSED) at amqp://guest:***@")
    assert "Wr0ngPassw0rd" not in result.stderr + result.stdout
    assert "pika" not in result.stderr
    assert line.endswith(wrong.rpartition("@")[2])  # host:port/vhost


def test_spc_run_with_a_login_the_broker_refuses_stops_in_one_line(tmp_path, amqp_uri):
    _, env = service_env(tmp_path, SPC_ADMIN_TOKENS="viewer:v", AMQP_URI=amqp_uri.replace("guest:guest@", "guest:nope@"))
    failed_in_one_line(spc("run", "audit", env=env), "spc run: the broker refused the login")


# 4. every command's expected failures


def test_expected_failures_of_the_broker_commands_are_one_line(tmp_path, amqp_uri):
    unreachable = f"amqp://guest:Pa55word@127.0.0.1:{free_port()}/%2F"
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    cases = [
        (
            ["publish", str(event_file(tmp_path))],
            {"AMQP_URI": unreachable},
            ["spc publish: cannot reach the broker at amqp://guest:***@127.0.0.1:", "connection refused"],
        ),
        (["publish", str(bad_json)], {"AMQP_URI": amqp_uri}, ["spc publish: ", "bad.json: not valid JSON"]),
        (["dlq", "list"], {"AMQP_URI": unreachable}, ["spc dlq list: cannot reach the broker"]),
        (["dlq", "replay"], {"AMQP_URI": unreachable}, ["spc dlq replay: cannot reach the broker"]),
        (
            ["dlq", "list"],
            {"AMQP_URI": amqp_uri},
            ["spc dlq list: the broker refused: 404", "spc.inbound.dead"],
        ),  # topology not declared
        (["dlq", "list"], {}, ["spc dlq list: AMQP_URI is not set"]),
    ]
    for args, env, expected in cases:
        result = spc(*args, env=clean_env(**env))
        failed_in_one_line(result, *expected)
        assert "Pa55word" not in result.stderr


def test_expected_failures_of_the_database_commands_are_one_line(tmp_path):
    gone = f"postgresql://spc:Pa55word@127.0.0.1:{free_port()}/spc"
    for args, env, expected in [
        (
            ["journal", "verify"],
            {"AUDIT_DATABASE_URL": gone},
            ["spc journal verify: cannot use audit's database at postgresql://spc:***@127.0.0.1:"],
        ),
        (["migrate", "funding"], {"FUNDING_DATABASE_URL": gone}, ["spc migrate: cannot use funding's database"]),
        (
            ["counters", "import", "spc/data/france-services-2024-08-01.csv"],
            {"DISTRIBUTION_DATABASE_URL": gone},
            ["spc counters import: cannot use distribution's database"],
        ),
    ]:
        result = spc(*args, env=clean_env(SPC_DATA_DIR=str(tmp_path), **env))
        failed_in_one_line(result, *expected)
        assert "Pa55word" not in result.stderr


# 5. which database, and no empty one created


def test_spc_journal_verify_on_a_fresh_machine_says_there_is_no_database_and_creates_none(tmp_path):
    data_dir = tmp_path / "var"
    result = spc("journal", "verify", env=clean_env(SPC_DATA_DIR=str(data_dir)))
    failed_in_one_line(result, "spc journal verify: audit's database does not exist", str(data_dir / "audit.db"))
    assert result.stdout == ""
    assert not data_dir.exists()


def test_spc_journal_verify_says_which_database_it_read(tmp_path):
    env = clean_env(SPC_DATA_DIR=str(tmp_path))
    migrated = spc("migrate", "audit", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert f"database: sqlite:///{tmp_path / 'audit.db'}" in migrated.stderr
    assert "alembic" not in migrated.stderr and "INFO" not in migrated.stderr, migrated.stderr
    result = spc("journal", "verify", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ok": True, "length": 0, "database": f"sqlite:///{tmp_path / 'audit.db'}"}
    assert "alembic" not in result.stderr and "INFO" not in result.stderr, result.stderr


def test_spc_journal_verify_on_postgresql_masks_the_password_and_refuses_an_empty_database(pg_url):
    with_password = pg_url.replace("://postgres@", "://postgres:S3cretPw@")  # trust auth ignores it
    assert with_password != pg_url
    env = clean_env(AUDIT_DATABASE_URL=with_password)
    empty = spc("journal", "verify", env=env)
    failed_in_one_line(empty, "spc journal verify: audit's database at postgresql://postgres:***@", "has no schema yet")
    assert spc("migrate", "audit", env=env).returncode == 0
    result = spc("journal", "verify", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["database"] == with_password.replace("S3cretPw", "***")
    assert "S3cretPw" not in result.stdout + result.stderr


def test_spc_counters_import_says_which_database_it_writes(tmp_path):
    result = spc("counters", "import", "spc/data/france-services-2024-08-01.csv", env=clean_env(SPC_DATA_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert f"database: sqlite:///{tmp_path / 'distribution.db'}" in result.stderr
    assert "alembic" not in result.stderr


# 6. a database that is not UTF-8 (a server made under the POSIX locale defaults to SQL_ASCII)
@pytest.fixture
def sql_ascii_url():
    from tests.servers import PG_URL, pg_admin, unique

    name, admin = unique("spc_ascii"), pg_admin()
    admin.run(f"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' TEMPLATE template0 LOCALE 'C'")
    yield f"{PG_URL}/{name}"
    admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_spc_migrate_and_spc_run_refuse_a_database_that_is_not_utf8_in_one_line(tmp_path, amqp_uri, sql_ascii_url):
    from spc.shared.sql.persistence import make_engine

    env = clean_env(REGISTRY_DATABASE_URL=sql_ascii_url, SPC_DATA_DIR=str(tmp_path))
    failed_in_one_line(spc("migrate", "registry", env=env), "is SQL_ASCII, not UTF-8", "ENCODING 'UTF8'")
    engine = make_engine(sql_ascii_url)  # nothing was created in it
    from sqlalchemy import inspect

    assert inspect(engine).get_table_names() == []
    engine.dispose()
    ports, env = service_env(
        tmp_path, AMQP_URI=amqp_uri, REGISTRY_DATABASE_URL=sql_ascii_url, SPC_ADMIN_TOKENS="viewer:a-token-for-this-test"
    )
    failed_in_one_line(spc("run", "registry", env=env), "registry: the database", "is SQL_ASCII, not UTF-8")
