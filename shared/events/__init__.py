"""Every event type SPC knows, declared once (catalogue.py): inbound events in inbound.py,
outbound events in outbound.py. Import from here: `from spc.shared import events`."""
from . import inbound, outbound  # noqa: F401  (declaring the event types is importing them)
from .catalogue import (COUNTER_FORMATS, COUNTER_TYPES, FIXED_FORMATS, OPENING_DAYS,  # noqa: F401
                        PRINCIPLES, REPORT_CATEGORIES, SERVICE_STATUSES, SERVICES, SEVERITIES, EventType, entry,
                        Payload, all_schemas, domain_event, event_types, is_inbound, known_event_type,
                        payload_schema, personal_fields, producer_of, redacted, routed_to, wire)
from .inbound import ViolationReported  # noqa: F401
from .outbound import SERVICE_LIFECYCLE  # noqa: F401

__all__ = ["COUNTER_FORMATS", "COUNTER_TYPES", "FIXED_FORMATS", "OPENING_DAYS", "PRINCIPLES", "REPORT_CATEGORIES",
           "SERVICE_LIFECYCLE", "SERVICE_STATUSES", "SERVICES", "SEVERITIES", "EventType", "Payload", "ViolationReported",
           "all_schemas", "domain_event", "entry", "event_types", "inbound", "is_inbound", "known_event_type", "outbound",
           "payload_schema", "personal_fields", "producer_of", "redacted", "routed_to", "wire"]  # what the package exports
