"""Builds `deploy/rabbitmq/definitions.json` (RabbitMQ's definitions format) from the code: the
topology (shared/messaging/topology.py), one user per SPC service, the operator, and the external systems
the event catalogue names as publishers (inbound) or readers (outbound) of each event type.
Written by `spc definitions`; tests/integration/test_rabbitmq_definitions.py fails when the
committed file differs, and loads it into the real broker to try each user's rights.

Passwords are not in the committed file (empty hashes: nobody can log in until they are set at
deploy time, deploy/rabbitmq/README.md). `spc definitions --passwords-from-env` fills in the hash
of each user whose password is in `SPC_BROKER_PASSWORD_<USER>` (`spc-registry`:
`SPC_BROKER_PASSWORD_SPC_REGISTRY`): what compose loads at the broker's boot.
"""

import base64
import hashlib
import json
import os
import re

from spc.runtime.config import SERVICE_NAMES
from spc.shared.core import events
from spc.shared.messaging import topology

VHOST = "spc"
RABBIT_VERSION = "3.10.8"
EXTERNAL_LIMITS = {"max-connections": 10, "max-channels": 20}  # one system never starves the rest
# Back-pressure on inbound queues (docs/integrating.md): past its bound a queue refuses new
# publishes (the publisher's confirm is a nack), so one flooding system delays only its own type.
BOUNDS = [
    ("spc-compliance-bound", [topology.AUDIT_COMPLIANCE], 100_000),
    ("spc-inbound-bounds", [topology.AUDIT_REPORTS, topology.DISTRIBUTION_INBOUND], 200_000),
    ("spc-dead-letters", topology.DEAD_LETTER_QUEUES, 1_000_000),
]
# A dead letter is kept 30 days, then dropped by the broker: it may hold a citizen's words
# (docs/security.md), and the alerts say it is there within the hour (docs/operations.md)
DEAD_LETTER_DAYS = 30
TTL = {"spc-dead-letters": DEAD_LETTER_DAYS * 86_400_000}


def password_env(user):
    return "SPC_BROKER_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", user.upper())


def password_hash(password, salt=None):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode("utf-8")).digest()).decode()


def _any_of(names):
    return "^(" + "|".join(re.escape(n) for n in names) + ")$"


# nosec B105: an empty hash is no password: nobody logs in until one is set at deploy time
NO_PASSWORD_HASH = ""  # nosec B105


def _user(name, limits=None):
    return {
        "name": name,
        "password_hash": NO_PASSWORD_HASH,
        "hashing_algorithm": "rabbit_password_hashing_sha256",
        "tags": "",
        "limits": limits or {},
    }


def _permission(user, configure, write, read):
    return {"user": user, "vhost": VHOST, "configure": configure, "write": write, "read": read}


def _topic(user, exchange, write, read):
    return {"user": user, "vhost": VHOST, "exchange": exchange, "write": write, "read": read}


def external_systems():
    """{user: (event types it may publish to spc.inbound, event types it may read on spc.events)}."""
    systems = {}
    for entry in events.event_types():
        for user in entry.publishers:
            systems.setdefault(user, (set(), set()))[0].add(entry.name)
        for user in entry.readers:
            systems.setdefault(user, (set(), set()))[1].add(entry.name)
    return {user: (sorted(w), sorted(r)) for user, (w, r) in sorted(systems.items())}


def service_rights(service):
    """The permission and topic permissions of SPC service `service`'s broker user: it may
    configure and read its own queues only (topology.owned_by), bind them from the exchanges they
    need with their own keys only, publish on spc.events the types it produces only (and on
    spc.inbound what it relays), and dead-letter to spc.dead."""
    user, own = f"spc-{service}", topology.owned_by(service)
    queues = [q.name for q in own]
    keys = {}  # exchange: the routing keys its queues are bound with
    for queue in own:
        for b in queue.bindings:
            keys.setdefault(b.exchange.name, set()).add(b.routing_key)
    for queue, exchange, key in topology.RETIRED_BINDINGS:  # it unbinds them (topology.declare)
        if queue.owner == service:
            keys.setdefault(exchange.name, set()).add(key)
    produced = sorted(e.name for e in events.event_types() if e.producer == service)
    relayed = sorted(e.name for e in events.event_types() if service in e.relayed_by)
    writes = [topology.EVENTS.name, topology.DEAD.name] + ([topology.INBOUND.name] if relayed else [])
    permission = _permission(
        user, _any_of(queues), _any_of(queues + writes), _any_of(queues + [e for e in sorted(keys) if e not in queues])
    )

    def bound(exchange):  # the keys it may bind from `exchange` (topic read)
        return _any_of(sorted(keys[exchange])) if exchange in keys else "^$"

    dead_keys = sorted({q.dead_letter_key for q in topology.CONSUMER_QUEUES})
    topics = [
        _topic(user, topology.EVENTS.name, _any_of(produced), bound(topology.EVENTS.name)),
        _topic(user, topology.DEAD.name, _any_of(dead_keys), "^$"),
    ]
    if relayed or topology.INBOUND.name in keys:
        topics.append(_topic(user, topology.INBOUND.name, _any_of(relayed) if relayed else "^$", bound(topology.INBOUND.name)))
    return permission, topics


def _access():
    """Users, their permissions and their topic permissions."""
    users = [_user(f"spc-{name}") for name in SERVICE_NAMES] + [_user("spc-operator")]
    # operators' login to the management UI and API (no message rights of its own)
    users.append(dict(_user("spc-admin"), tags="administrator"))
    permissions, topics = [], []
    for name in SERVICE_NAMES:
        permission, own_topics = service_rights(name)
        permissions.append(permission)
        topics += own_topics
    permissions.append(
        _permission(
            "spc-operator",
            "^$",
            _any_of(["amq.default", topology.INBOUND.name, topology.UNROUTED.name]),
            _any_of([q.name for q in topology.DEAD_LETTER_QUEUES]),
        )
    )
    for user, (writes, reads) in external_systems().items():
        users.append(_user(user, EXTERNAL_LIMITS))
        own_queues = re.escape(user.replace("-", ".", 1) + ".") + ".*"  # ext-payments: ext.payments.*
        # one permission per user and vhost (RabbitMQ keeps one): writing to spc.inbound, and/or
        # reading spc.events through queues of its own (ext.<system>.*)
        configure, write, read = [], [], []
        if writes:
            write.append(re.escape(topology.INBOUND.name))
            topics.append(_topic(user, topology.INBOUND.name, _any_of(writes), "^$"))
        if reads:
            configure.append(own_queues)
            write.append(own_queues)
            read += [re.escape(topology.EVENTS.name), own_queues]
            topics.append(_topic(user, topology.EVENTS.name, "^$", _any_of(reads)))
        permissions.append(_permission(user, *(f"^({'|'.join(p)})$" if p else "^$" for p in (configure, write, read))))
    return users, permissions, topics


def _queue(q):
    return {"name": q.name, "vhost": VHOST, "durable": True, "auto_delete": False, "arguments": dict(q.queue_arguments or {})}


def document():
    users, permissions, topics = _access()
    queues = topology.CONSUMER_QUEUES + topology.DEAD_LETTER_QUEUES
    bindings = [(b.exchange.name, q.name, b.routing_key) for q in topology.CONSUMER_QUEUES for b in q.bindings] + [
        (q.exchange.name, q.name, q.routing_key) for q in topology.DEAD_LETTER_QUEUES
    ]
    return {
        "rabbit_version": RABBIT_VERSION,
        "rabbitmq_version": RABBIT_VERSION,
        "vhosts": [{"name": VHOST}],
        "users": users,
        "permissions": permissions,
        "topic_permissions": topics,
        "policies": [
            {
                "vhost": VHOST,
                "name": name,
                "pattern": _any_of([q.name for q in bounded]),
                "apply-to": "queues",
                "priority": 0,
                "definition": {
                    "max-length": bound,
                    "overflow": "reject-publish",
                    **({"message-ttl": TTL[name]} if name in TTL else {}),
                },
            }
            for name, bounded, bound in BOUNDS
        ],
        "exchanges": [
            {
                "name": e.name,
                "vhost": VHOST,
                "type": e.type,
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": dict(e.arguments or {}),
            }
            for e in topology.EXCHANGES
        ],
        "queues": [_queue(q) for q in queues],
        "bindings": [
            {
                "source": source,
                "vhost": VHOST,
                "destination": queue,
                "destination_type": "queue",
                "routing_key": key,
                "arguments": {},
            }
            for source, queue, key in sorted(set(bindings))
        ],
    }


def with_passwords(doc, environ):
    """`doc` with the hash of each user's password from `environ` (users without one: unchanged)."""
    for user in doc["users"]:
        password = environ.get(password_env(user["name"]))
        if password:
            user["password_hash"] = password_hash(password)
    return doc


def for_vhost(doc, vhost):
    """`doc` with every object in `vhost` instead of `spc` (to try SPC in a vhost of one's own)."""
    doc["vhosts"] = [{"name": vhost}]
    for section in ("permissions", "topic_permissions", "policies", "exchanges", "queues", "bindings"):
        for item in doc[section]:
            item["vhost"] = vhost
    return doc


def render(environ=None, vhost=VHOST):
    doc = document() if environ is None else with_passwords(document(), environ)
    return json.dumps(for_vhost(doc, vhost) if vhost != VHOST else doc, indent=2, ensure_ascii=False) + "\n"


class LoadError(Exception):
    """The management API could not be reached, or refused the definitions (the CLI says it in one line)."""


def load(text, api):
    """POST the definitions `text` to RabbitMQ's management API at `api` (`http://user:pass@host:15672`):
    the vhost, its exchanges, queues, bindings and policies, the users and their rights. Users
    already there take the file's password hash (and its rights in this vhost)."""
    from urllib.parse import urlsplit, urlunsplit

    import requests

    parts = urlsplit(api)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadError(
            f"--load takes the management API's URL, e.g. http://guest:guest@127.0.0.1:15672 (got {parts.scheme or api!r})"
        )
    auth = (parts.username or "guest", parts.password or "guest")
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + "/api/definitions", "", ""))
    try:
        resp = requests.post(url, data=text.encode("utf-8"), auth=auth, timeout=60, headers={"Content-Type": "application/json"})
    except requests.RequestException as exc:
        raise LoadError(
            f"the management API at {netloc} cannot be reached ({type(exc).__name__}); is the rabbitmq_management plugin enabled?"
        ) from None
    if resp.status_code in (401, 403):
        raise LoadError(
            f"the management API at {netloc} refused user {auth[0]!r} ({resp.status_code}): an administrator is needed"
        )
    if resp.status_code >= 300:
        raise LoadError(f"the management API at {netloc} refused the definitions: {resp.status_code} {resp.text[:300]}")
