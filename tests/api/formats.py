"""The string formats openapi.yaml names for what a pattern cannot check, taught to schemathesis
(and so to hypothesis): a generated "valid" SIREN passes the Luhn check and a COG code is one
the COG has, so a fuzzer's valid request is valid for SPC too. Loaded by tests/api/test_fuzz.py,
and by the schemathesis CLI through `SCHEMATHESIS_HOOKS=tests.api.formats` (docs/operations.md,
"Fuzzing the admin API")."""

import schemathesis
from hypothesis import strategies as st

from spc.shared.core.geography import geography
from spc.shared.core.identifiers import LA_POSTE, luhn_completed


def _sirens():
    return st.text("0123456789", min_size=8, max_size=8).map(luhn_completed).filter(lambda v: v.strip("0") and v != LA_POSTE)


def _sirets():  # a SIREN, the establishment's 4 digits, the check digit of the whole
    return st.tuples(_sirens(), st.text("0123456789", min_size=4, max_size=4)).map(
        lambda parts: luhn_completed(parts[0] + parts[1])
    )


def _communes():
    geo = geography()
    return sorted(code for code, c in geo.communes.items() if c.kind != "former_commune")


schemathesis.openapi.format("siren", _sirens())
schemathesis.openapi.format("siret", _sirets())
schemathesis.openapi.format("cog-commune", st.sampled_from(_communes()))
schemathesis.openapi.format("cog-department", st.sampled_from(sorted(geography().departments)))
schemathesis.openapi.format("cog-region", st.sampled_from(sorted(geography().regions)))
