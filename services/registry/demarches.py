"""The registry's link to Démarches Simplifiées, built once per container from the config
(SPC_DS_*, checked by spc.runtime.config): the GraphQL client, the mapping of each démarche read
(one TOML file per démarche in SPC_DS_MAPPINGS, domain/dossiers.Mapping), and the webhook's
secret. None when SPC_DS_TOKEN is unset: no démarche is read."""

from dataclasses import dataclass
from pathlib import Path

from nameko.extensions import DependencyProvider, SharedExtension

from .domain.dossiers import Mapping
from .ds_client import DemarchesSimplifiees


def load_mappings(directory):
    """{démarche number: Mapping} from every `*.toml` in `directory`; ValueError names the file."""
    mappings = {}
    for path in sorted(Path(directory).glob("*.toml")):
        mapping = Mapping.from_toml(path.read_text(encoding="utf-8"), str(path))
        if path.stem.isdigit() and int(path.stem) != mapping.demarche:
            raise ValueError(f"{path}: maps démarche {mapping.demarche}; name it {mapping.demarche}.toml")
        if mapping.demarche in mappings:
            raise ValueError(f"{path}: démarche {mapping.demarche} is mapped twice")
        mappings[mapping.demarche] = mapping
    if not mappings:
        raise ValueError(f"{directory}: no mapping file (<démarche>.toml)")
    return mappings


@dataclass
class Demarches:
    client: DemarchesSimplifiees
    mappings: dict
    secret: str
    write_back: str | None = None  # the DS instructor's id the messages come from; None: off
    since: str | None = None  # dossiers changed before then are not read (SPC_DS_SINCE)


class _Link(SharedExtension):
    def setup(self):
        ds = self.container.config.get("DS")
        self.link = (
            None
            if not ds
            else Demarches(
                DemarchesSimplifiees(ds["token"], ds["url"]),
                load_mappings(ds["mappings"]),
                ds["secret"],
                ds.get("write_back"),
                ds.get("since"),
            )
        )


class DemarchesProvider(DependencyProvider):
    link = _Link()

    def get_dependency(self, worker_ctx):
        return self.link.link
