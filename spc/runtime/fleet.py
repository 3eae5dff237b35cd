"""The services SPC runs, by name: each nameko class carries its bootstrap spec (`cls.spec`)."""

from spc.services.audit.service import AuditService
from spc.services.distribution.service import DistributionService
from spc.services.funding.service import FundingService
from spc.services.registry.service import RegistryService

SERVICES = {cls.spec.name: cls for cls in (RegistryService, FundingService, DistributionService, AuditService)}
SERVICE_NAMES = tuple(SERVICES)


def service_class(name):
    try:
        return SERVICES[name]
    except KeyError:
        raise ValueError(f"unknown service {name!r}; choose from {', '.join(SERVICE_NAMES)}") from None


def spec(name):
    return service_class(name).spec
