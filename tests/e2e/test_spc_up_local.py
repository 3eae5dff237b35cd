"""`spc up` ready to use on a developer's machine (issue 26): embedded and with no tokens
configured it makes a tokens file of its own (one random token per staff role, readable by its
owner only, kept across restarts) and says where; `spc token ROLE` prints one; it loads the bundled
France Services counters when distribution has none (once), unless told not to. Given tokens, or
a broker, it makes none."""

import os
import stat
import subprocess
import sys

import requests

from spc.shared.web.auth import STAFF_ROLES
from tests.e2e.test_cli_errors import service_env, spc
from tests.support import wait_for


def run_up(env, *args):
    """Start `spc up` (its output piped: `stop` returns it)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "spc.cli", "up", *args], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    return proc


def ready(proc, ports):
    """Wait until every service `spc up` (`proc`) runs answers ready on its port."""

    def check():
        assert proc.poll() is None, "spc up exited"
        return all(requests.get(f"http://127.0.0.1:{p}/health/ready", timeout=2).ok for p in ports.values())

    wait_for("spc up to be ready", check, timeout=120)


def stop(proc):
    proc.terminate()
    return proc.communicate(timeout=60)[0]


def counters_total(port, token):
    return requests.get(
        f"http://127.0.0.1:{port}/counters?limit=1", timeout=5, headers={"Authorization": f"Bearer {token}"}
    ).json()["total"]


def test_embedded_spc_up_makes_its_own_tokens_and_loads_the_counters_once(tmp_path):
    ports, env = service_env(tmp_path)
    tokens_file = tmp_path / "var" / "admin-tokens"
    proc = run_up(env)
    try:
        ready(proc, ports)
        mode = stat.S_IMODE(os.stat(tokens_file).st_mode)
        tokens = {role: spc("token", role, env=env).stdout.strip() for role in STAFF_ROLES}
        registry = f"http://127.0.0.1:{ports['registry']}/services"
        assert requests.get(registry, timeout=5).status_code == 401
        assert requests.get(registry, timeout=5, headers={"Authorization": f"Bearer {tokens['viewer']}"}).ok
        created = requests.post(registry, timeout=5, json={}, headers={"Authorization": f"Bearer {tokens['viewer']}"})
        assert created.status_code == 403  # a viewer's token is a viewer's
        assert counters_total(ports["distribution"], tokens["viewer"]) == 2_845
        # a command missing its token names the setting
        urls = {f"SPC_{n.upper()}_URL": f"http://127.0.0.1:{p}" for n, p in ports.items()}
        refused = spc("reconcile", env=dict(env, **urls))
        wrong = spc("reconcile", env=dict(env, SPC_TOKEN="not-a-token", **urls))
        agreed = spc("reconcile", env=dict(env, SPC_TOKEN=tokens["viewer"], **urls))
    finally:
        out = stop(proc)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "401 (no token given): set SPC_TOKEN" in refused.stderr, refused.stderr
    assert "401 (the token was refused): set SPC_TOKEN" in wrong.stderr, wrong.stderr
    assert agreed.returncode == 0 and "0 disagreements" in agreed.stderr, agreed.stderr
    assert mode == 0o600
    assert len(set(tokens.values())) == len(STAFF_ROLES) and all(len(t) == 40 for t in tokens.values())
    assert f"staff tokens: {tokens_file} (made now" in out and "spc token registrar" in out
    assert "loaded the 2,845 France Services counters" in out
    assert "no admin token configured" not in out

    proc = run_up(env)  # again: the same tokens, the counters not loaded twice
    try:
        ready(proc, ports)
        assert spc("token", "auditor", env=env).stdout.strip() == tokens["auditor"]
        assert counters_total(ports["distribution"], tokens["viewer"]) == 2_845
    finally:
        out = stop(proc)
    assert f"staff tokens: {tokens_file} (made earlier" in out
    assert "France Services counters" not in out


def test_spc_up_with_no_counters_loads_none_and_with_tokens_given_makes_no_file(tmp_path):
    ports, env = service_env(tmp_path, SPC_ADMIN_TOKENS="viewer:my-own-token")
    proc = run_up(env, "--no-counters")
    try:
        ready(proc, ports)
        assert counters_total(ports["distribution"], "my-own-token") == 0
    finally:
        out = stop(proc)
    assert not (tmp_path / "var" / "admin-tokens").exists()
    assert "staff tokens:" not in out and "France Services counters" not in out


def test_spc_token_without_a_tokens_file_says_where_it_looked(tmp_path):
    _, env = service_env(tmp_path)
    result = spc("token", "registrar", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"no tokens file at {tmp_path / 'var' / 'admin-tokens'} (SPC_DATA_DIR)" in result.stderr
    assert "spc up" in result.stderr
