"""Builds `openapi.yaml` (OpenAPI 3.1) of the four admin HTTP APIs from the services' own
entrypoints, with apispec and its marshmallow plugin: each `@api(...)` (shared/web/http.py) declares
its method, path, role, body, query and answer schemas, success status, error answers and
summary, and the entrypoint enforces the same declaration. Each operation carries an example
request that works: tests/service/test_openapi_examples.py replays them in order. Written by
`spc openapi` / `spc generate`; tests/unit/test_openapi.py checks the committed file."""

import re

from apispec import APISpec
from marshmallow import fields
from apispec.ext.marshmallow import MarshmallowPlugin

from spc.runtime import config
from spc.runtime.fleet import service_class, spec
from spc.shared.core.errors import NotYetKnown
from spc.shared.web.auth import SCOPED_ROLES
from spc.shared.web.http import ANY_ROLE, CORRELATION_HEADER, CORRELATION_ID, IDEMPOTENCY_KEY, PUBLIC, JsonHttp, http_status

from spc.shared.web.edge import IDEMPOTENCY_HEADER

from .examples import EXAMPLE_IDS, request_example

VERSION = "1.3.0"  # 1.2: the pact (amendments, versions, full pact bodies), finding commitments; 1.3: one list shape
ERROR = {"$ref": "#/components/schemas/Error"}
PUBLIC_HEADERS = {  # on a public read's answers (shared/web/public_reads.py)
    "ETag": {"description": "a strong hash of the JSON body: send it back in If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {"description": "`public, max-age=<SPC_PUBLIC_MAX_AGE>` (30 s by default)", "schema": {"type": "string"}},
}
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
_TYPED_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def operations():
    """(service, method name, JsonHttp entrypoint) for every HTTP route, in path order."""
    found = []
    for service in config.SERVICE_NAMES:
        cls = service_class(service)
        for attr in dir(cls):
            for entrypoint in getattr(getattr(cls, attr), "nameko_entrypoints", ()):
                if isinstance(entrypoint, JsonHttp):
                    found.append((service, attr, entrypoint))
    return sorted(found, key=lambda x: (x[2].url, x[2].method, x[0]))


def openapi_path(url):
    return _PARAM.sub(r"{\1}", url)


def _doc(error_class):
    if error_class is None:  # marshmallow's: the body or query does not fit its schema
        return "a field is missing or invalid (`details.fields` names each)."
    return " ".join((error_class.__doc__ or error_class.code).split())


def _errors(ep):
    """The error answers of one operation, by status: each code it may answer and what it means."""
    by_status = {}
    for error in ep.answerable_errors():
        by_status.setdefault(http_status(error), {}).setdefault(error.code, []).append(error)
    if ep.body is not None or ep.query is not None:
        by_status.setdefault(400, {}).setdefault("invalid_request", []).insert(0, None)
    responses = {}
    for status, codes in sorted(by_status.items()):
        meanings = [f"`{code}`: " + " / ".join(_doc(e) for e in errors) for code, errors in sorted(codes.items())]
        response = {
            "description": "\n".join(meanings),
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [
                            ERROR,
                            {
                                "type": "object",
                                "properties": {
                                    "error": {"type": "object", "properties": {"code": {"type": "string", "enum": sorted(codes)}}}
                                },
                            },
                        ]
                    }
                }
            },
        }
        if any(e is not None and issubclass(e, NotYetKnown) for errors in codes.values() for e in errors):
            response["headers"] = {
                "Retry-After": {
                    "description": "seconds; on answers worth retrying (the service named was perhaps "
                    "approved a moment ago and this service has not heard of it yet)",
                    "schema": {"type": "integer"},
                }
            }
        if status == 429:
            response["headers"] = {
                "Retry-After": {"description": "seconds until this client may call again", "schema": {"type": "integer"}}
            }
        responses[str(status)] = response
    return responses


def _operation(service, name, ep, shared, served_by=()):
    """`served_by`: the services that serve the same operation, when several but not all do (the
    agenda: registry, funding, audit, each its own deadlines)."""
    op = {
        "operationId": name if shared or served_by else f"{service}_{name}",
        "summary": ep.summary or name.replace("_", " "),
        "tags": ["every service"] if shared else list(served_by) or [service],
        "x-spc-role": ep.role if ep.role is not None else "public",
    }
    if ep.scoped:
        op["x-spc-scoped"] = [f"{role}/<{SCOPED_ROLES[role]}>" for role in ep.scoped]
    params = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1} if converter == "int" else {"type": "string"},
            "example": EXAMPLE_IDS[p],
        }
        for converter, p in _TYPED_PARAM.findall(ep.url)
    ]
    if ep.query is not None:
        params.append({"in": "query", "schema": ep.query})
    if ep.role is not PUBLIC:
        params.append(
            {
                "name": CORRELATION_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": "^" + CORRELATION_ID.pattern + "$"},
                "description": "carried into the events the request causes and echoed in the answer (one is made up when absent)",
            }
        )
    if ep.public_read:
        params.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "the ETag of an answer already held: 304 with no body while it is current",
            }
        )
    if ep.takes_idempotency_key:
        params.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": "^" + IDEMPOTENCY_KEY.pattern + "$"},
                "description": "a retry with the same key (and the same token, path and "
                "body) gets the first answer, marked `Idempotent-Replayed: "
                "true`, and changes nothing more, even after a restart",
            }
        )
    if params:
        op["parameters"] = params
    example = request_example(service, name)
    if ep.body is not None:
        content = {"schema": ep.body}
        if example is not None:
            content["example"] = example
        op["requestBody"] = {
            "required": any(f.required for f in ep.body().fields.values()),
            "content": {"application/json": content},
        }
        if getattr(ep, "form", False):
            op["requestBody"]["content"]["application/x-www-form-urlencoded"] = {"schema": ep.body}
    if name == "metrics_text":
        ok = {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}
    elif ep.media_type:
        ok = {"description": "OK", "content": {ep.media_type: {"schema": {"type": "string"}}}}
    else:
        ok = {"description": "OK", "content": {"application/json": {"schema": ep.response or {"type": "object"}}}}
    if ep.takes_idempotency_key:
        ok.setdefault("headers", {})["Idempotent-Replayed"] = {
            "description": "`true` when this is the answer kept for the Idempotency-Key",
            "schema": {"type": "string", "enum": ["true"]},
        }
    if ep.location:
        ok.setdefault("headers", {})["Location"] = {"description": "the new resource", "schema": {"type": "string"}}
    responses = {str(ep.status): ok}
    if ep.public_read:
        ok["headers"] = {**PUBLIC_HEADERS, **ok.get("headers", {})}
        responses["304"] = {
            "description": "Not modified: the If-None-Match ETag is the current answer's (no body)",
            "headers": PUBLIC_HEADERS,
        }
    if ep.role is PUBLIC:
        op["security"] = []
        if name == "health_ready":
            responses["503"] = {"description": "not ready", "content": {"application/json": {"schema": ep.response}}}
    elif ep.role != ANY_ROLE:
        op["description"] = f"Role: `{'` or `'.join(ep.roles)}`. Nothing changes when the request is refused."
    else:
        op["description"] = "Any staff role may read."
    if ep.scoped:
        op["description"] += (
            " Also a scoped token on its own "
            + " / ".join(f"`{SCOPED_ROLES[r]}` (`{r}/<{SCOPED_ROLES[r]}>`)" for r in ep.scoped)
            + "; on another one: 403."
        )
    responses.update(_errors(ep))
    op["responses"] = responses
    return op


def document():
    api = APISpec(
        title="Service Public Citoyen admin API",
        version=VERSION,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": (
                "The staff endpoints of SPC's four services (public contract §4). Each service listens "
                "on its own port; an operation's `servers` says which. `/health/*`, `/metrics` and "
                '`/standings` exist on every service. Errors are always `{"error": {"code", '
                '"message", "details"}}` with a 4xx status: besides each operation\'s own, an unknown '
                "path answers 404 `not_found` and a method a path does not have 405 "
                "`method_not_allowed`. Bodies are JSON (`Content-Type: application/json`; 415 "
                "otherwise, a missing Content-Type included) of at most 256 KiB by default "
                "(`SPC_MAX_BODY_BYTES`; 413 past it, before the body is read). Text is UTF-8 without "
                "U+0000 (400 `invalid_text` otherwise). Every answer of an operation carries "
                "`X-Correlation-Id` (except the 400 for a malformed one). "
                "The operations under `/public/` need no token (`security: []`, `x-spc-role: public`) and show no "
                "personal data: each answer has a strong `ETag` and `Cache-Control: public, max-age=30` "
                "(`SPC_PUBLIC_MAX_AGE`), a current `If-None-Match` gets 304, and each client may make 120 "
                "requests a minute to each service (`SPC_PUBLIC_RATE_PER_MINUTE`; 429 `rate_limited` with "
                "`Retry-After` past it). Generated from the code by `spc generate`.\n\n"
                '**1.3** (extensions): every list answers one shape, `{"items": [...], "total", "limit", '
                '"offset"}` (shared/core/lists.py): a paged list says its page, a whole list (a service\'s findings '
                "and listings, a counter's catalogue, the programmes, a service's amendments) has `limit: null` "
                "and `offset: 0`; `/standings` pages by cursor (`items`, `next`). The keys those lists had "
                "before (`findings`, `services`) stay beside `items` until 2.0 (`deprecated`); `listings` "
                "(contract v1) stays.\n\n"
                "**1.2** (extensions): the full pact (commitment texts, governance, signatories, term, "
                "referral; docs/pact.md), its amendments and versions (`/services/{service_id}/amendments`, "
                "`/pact`), status `expired`, `pact_missing`, list filters `commune` and `principle`; scoped "
                "tokens `counter_agent/<counter_id>` and `service/<service_id>` (`x-spc-scoped`); counters' "
                "catalogues with each service's commitments and referral, the printable "
                "`catalogue.html`, reports relayed from a counter; `/reports`, answers to findings, "
                "escalation, `/dossier`; a finding's `commitment`; a programme's funder and legal basis, a "
                "release's evidence and reason; the public read API (`/public/services`, "
                "`/public/services/{service_id}` and its `/funding`, `/public/programmes`, `/public/counters` "
                "and their catalogues). **Tightened** (issues 11 and 13 ask it; contract v1 bodies "
                "otherwise still work): a pact's identifiers must agree with its legal form (an association "
                "gives its RNA number or SIREN, a company/cooperative/SCIC/SCOP/foundation/public body its "
                "SIREN), SIREN 000000000 and codes outside INSEE's COG 2026 are refused, a commune must lie "
                "in the départements given with it, `commitments: []` is refused, the same organisation "
                "registering the same name again gets 409 `already_registered`; a tranche released before "
                "its due date needs a `reason` (409 `release_before_due_date`)."
            ),
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        servers=[{"url": f"http://localhost:{spec(n).port}", "description": n} for n in config.SERVICE_NAMES],
        security=[{"bearer": []}],
        tags=[{"name": n} for n in (*config.SERVICE_NAMES, "every service")],
    )
    api.components.security_scheme(
        "bearer",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A staff token from SPC_ADMIN_TOKENS / SPC_ADMIN_TOKENS_FILE; the role "
            "each operation needs is in its `x-spc-role` (`any`: every role may read).",
        },
    )
    api.components.schema(
        "Error",
        {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}},
                }
            },
        },
    )
    ops, seen, paths = operations(), {}, {}
    for service, _name, ep in ops:
        seen.setdefault((ep.url, ep.method), []).append(service)
    for service, name, ep in ops:
        services = seen[(ep.url, ep.method)]
        shared = len(services) == len(config.SERVICE_NAMES)
        several = () if shared or len(services) == 1 else tuple(sorted(services, key=_order))
        if len(services) > 1 and service != min(services, key=_order):
            continue
        path = openapi_path(ep.url)
        entry = paths.setdefault(path, {"operations": {}, "services": set(), "several": set()})
        entry["operations"][ep.method.lower()] = _operation(service, name, ep, shared, several)
        if not shared:
            entry["services"].update(services)
            entry["several"].add(several)
    for path, entry in paths.items():
        if len(entry["services"]) > 1 and entry["several"] != {tuple(sorted(entry["services"], key=_order))}:
            raise ValueError(
                f"{path} is served by {entry['services']}: one path, one service, unless every "
                "operation on it is the same one, served by each (a mixin's)"
            )
        api.path(path=path, operations=entry["operations"])
    doc = api.to_dict()
    for name, extra in _extras(ep.body for _, _, ep in ops if ep.body is not None).items():
        doc["components"]["schemas"][name].update(extra)
    _no_nul(doc)
    for path, entry in paths.items():  # apispec has no argument for a path's servers
        if entry["services"]:
            doc["paths"][path]["servers"] = [
                {"url": f"http://localhost:{spec(s).port}", "description": f"{s} (env {s.upper()}_PORT)"}
                for s in sorted(entry["services"], key=_order)
            ]
    return doc


def _order(service):
    return config.SERVICE_NAMES.index(service)


NO_NUL = {"not": {"type": "string", "pattern": "\\u0000"}}  # SPC refuses text with U+0000 (400 invalid_text)


def _no_nul(doc):
    """Say on every string a request may carry (its bodies' schemas, nested ones included, and its
    query and path parameters) that it holds no U+0000: SPC answers such text 400 `invalid_text`."""
    schemas, todo, seen = doc["components"]["schemas"], [], set()

    def strings(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and ref.startswith("#/components/schemas/"):
                todo.append(ref.rsplit("/", 1)[1])
            types = node.get("type")
            if types == "string" or (isinstance(types, list) and "string" in types):
                if "not" not in node and "enum" not in node and "format" not in node:
                    node.update(NO_NUL)
            for key, value in node.items():
                if key != "not":
                    strings(value)
        elif isinstance(node, list):
            for item in node:
                strings(item)

    for item in doc["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            strings(operation.get("requestBody", {}))
            strings(operation.get("parameters", []))
    while todo:
        name = todo.pop()
        if name not in seen and name in schemas:
            seen.add(name)
            strings(schemas[name])


def _extras(schema_classes):
    """{component name: openapi_extra} of the schemas (nested ones included) that declare what
    their fields cannot say."""
    found, todo = {}, list(schema_classes)
    while todo:
        cls = todo.pop()
        if getattr(cls, "openapi_extra", None):
            found[cls.__name__] = cls.openapi_extra
        for f in cls._declared_fields.values():
            inner = getattr(f, "inner", f)
            if isinstance(inner, fields.Nested) and isinstance(inner.nested, type):
                todo.append(inner.nested)
    return found


def render():
    import yaml

    header = (
        "# Generated by `spc generate` (or `spc openapi > openapi.yaml`) from the services' "
        "entrypoints.\n# tests/unit/test_generated.py fails when this file and the code disagree.\n"
    )
    return header + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
