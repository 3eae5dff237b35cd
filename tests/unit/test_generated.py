"""What is generated from the code is committed as generated: `spc generate --check` passes on
the repository (asyncapi.yaml, openapi.yaml, deploy/rabbitmq/definitions.json, the inbound table
of docs/integrating.md), and the docs table lists every inbound type with its publishers."""

from pathlib import Path

from click.testing import CliRunner

from spc.cli.commands import cli
from spc.shared.core import events

ROOT = Path(__file__).resolve().parents[2]


def test_nothing_generated_is_stale():
    result = CliRunner().invoke(cli, ["generate", "--check", "--root", str(ROOT)])
    assert result.exit_code == 0, f"run `spc generate`: {result.output}"


def test_the_integration_guide_lists_every_inbound_type_and_who_may_publish_it():
    guide = (ROOT / "docs/integrating.md").read_text()
    for entry in events.event_types():
        if entry.inbound:
            row = next(line for line in guide.splitlines() if line.startswith(f"| `{entry.name}` |"))
            assert all(f"`{user}`" in row for user in entry.publishers)
