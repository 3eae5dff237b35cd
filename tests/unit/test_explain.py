"""Validation messages say what a list or an object holds (issue 26): a body's shape can be
learnt from its refusal, not guessed."""

import pytest
from marshmallow import ValidationError

from spc.services.funding.schemas import GrantIn
from spc.services.registry.schemas import RegisterServiceIn
from spc.shared.core.explain import explain


def refused(schema, data):
    with pytest.raises(ValidationError) as caught:
        schema().load(data)
    return explain(schema, caught.value.messages)


def test_a_list_given_as_something_else_says_what_it_holds():
    said = refused(
        RegisterServiceIn, {"commitments": {"continuity": "Ouverte toute l'année"}, "territories": {"departments": "35"}}
    )
    assert said["commitments"] == ["Not a valid list: a list of {principle, text} (contract v1: principle names)."]
    assert said["territories"] == {"departments": ["Not a valid list: a list of strings."]}
    assert said["name"] == ["Missing data for required field."]  # the rest as marshmallow says it


def test_an_object_given_as_something_else_names_its_fields():
    said = refused(RegisterServiceIn, {"governance": "the general assembly"})
    assert said["governance"] == {
        "_schema": ["Not an object: an object {bodies, user_representation, responsible, data_protection_contact} is expected."]
    }
    said = refused(RegisterServiceIn, {"governance": {"bodies": "AG"}})
    assert said["governance"]["bodies"] == ["Not a valid list: a list of {name, how_chosen}."]


def test_an_element_of_a_list_that_is_not_an_object_names_the_objects_fields():
    said = refused(GrantIn, {"programme_id": "p", "service_id": "s", "tranches": ["1500000"]})
    assert said["tranches"] == {0: {"_schema": ["Not an object: an object {amount_cents, due_date, milestone} is expected."]}}
    said = refused(GrantIn, {"programme_id": "p", "service_id": "s", "tranches": 1500000})
    assert said["tranches"] == ["Not a valid list: a list of {amount_cents, due_date, milestone}."]


def test_what_it_cannot_place_is_left_as_it_was():
    assert explain(GrantIn, {"unknown": ["Unknown field."]}) == {"unknown": ["Unknown field."]}
    assert explain(GrantIn, ["a message"]) == ["a message"]
