"""SPC_ADMIN_TOKENS_FILE is read again when it changes: a token is added (a France Services
agent, a service's own token) or revoked without restarting anything."""

import time

import requests

from tests.support import wait_for


def test_a_token_added_to_the_file_works_within_seconds_and_a_removed_one_stops(cluster_factory, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("viewer/desk:first-token\n")
    _, api = cluster_factory(names=("registry",), SPC_ADMIN_TOKENS="", SPC_ADMIN_TOKENS_FILE=str(tokens))

    def status(token):
        return requests.get(
            f"http://127.0.0.1:{api.ports['registry']}/services", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).status_code

    assert status("first-token") == 200 and status("second-token") == 401
    tokens.write_text("viewer/desk:first-token\nviewer/agent:second-token\n")
    wait_for("the new token", lambda: status("second-token") == 200, timeout=10)
    tokens.write_text("viewer/agent:second-token\n")
    wait_for("the revoked token refused", lambda: status("first-token") == 401, timeout=10)
    tokens.write_text("viewer/agent second-token with no colon\n")  # a mistake: the tokens in force stay
    time.sleep(1.5)
    assert status("second-token") == 200
