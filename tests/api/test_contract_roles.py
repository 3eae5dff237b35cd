"""openapi.yaml's roles, generated from the code's declarations, against the hand-written table
of contract §4 (contract_roles.py): the same for every operation, and no operation that the table
does not know. A role widened in the code shows up here before any server starts."""

from . import contract_roles
from .document import operations


def test_every_operation_of_the_document_has_the_role_the_contract_gives_it():
    differ = []
    for op in operations():
        wanted, scoped = contract_roles.ROLES.get((op.method, op.path), (None, None))
        got = (op.op["x-spc-role"], tuple(op.op.get("x-spc-scoped") or ()))
        if (wanted, scoped) != got:
            differ.append(f"{op}: contract {(wanted, scoped)}, openapi.yaml {got}")
    assert not differ, "\n".join(differ)


def test_every_operation_the_contract_names_is_in_the_document():
    documented = {(op.method, op.path) for op in operations()}
    assert not set(contract_roles.ROLES) - documented, set(contract_roles.ROLES) - documented
