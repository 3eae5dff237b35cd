"""Each service's error catalogue (services/<name>/exceptions.py) is mapped to HTTP in one place
(shared/web/http.py) and every error in it is declared by an endpoint, so openapi.yaml lists it."""

import importlib
import inspect

import pytest

from spc.runtime import config
from spc.generate.openapi import operations
from spc.shared.core.errors import Conflict, DomainError, InvalidRequest, NotFound, NotYetKnown
from spc.shared.web.http import http_status


def catalogue(service):
    module = importlib.import_module(f"spc.services.{service}.exceptions")
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, DomainError) and cls.__module__ == module.__name__
    ]


@pytest.mark.parametrize("service", config.SERVICE_NAMES)
def test_every_error_of_a_catalogue_is_declared_by_an_endpoint_of_its_service(service):
    declared = {e for s, _, ep in operations() if s == service for e in ep.errors}
    assert set(catalogue(service)) <= declared, set(catalogue(service)) - declared


@pytest.mark.parametrize("service", config.SERVICE_NAMES)
def test_every_error_has_a_code_a_status_and_a_meaning(service):
    for error in catalogue(service):
        assert error.code and error.code != "domain_error" and error.__doc__, error
        assert http_status(error) in (400, 404, 409), error


def test_kinds_map_to_their_status_and_a_not_yet_known_error_takes_its_kind_s():
    assert [http_status(k) for k in (NotFound, InvalidRequest, Conflict)] == [404, 400, 409]
    from spc.services.audit.exceptions import UnknownService
    from spc.services.funding.exceptions import ServiceNotActiveYet

    assert (http_status(UnknownService), http_status(ServiceNotActiveYet)) == (404, 409)
    assert issubclass(UnknownService, NotYetKnown) and UnknownService.retry_after == 1
