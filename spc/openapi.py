"""Builds `openapi.yaml` (OpenAPI 3.1) of the four admin HTTP APIs from the services' own
entrypoints: each `@api(...)` declares its method, path, role, body and query schemas, summary
and success status (shared/http.py). Written by `spc openapi`; tests/unit/test_openapi.py checks
the committed file and tests/service/test_openapi_roles.py holds the services to it."""
import re

from spc import config
from spc.fleet import service_class, spec
from spc.shared.errors import NotYetKnown
from spc.shared.http import ANY_ROLE, PUBLIC, JsonHttp, http_status

from .asyncapi import object_schema

VERSION = "1.0.0"
ERROR = {"$ref": "#/components/schemas/Error"}
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


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
        response = {"description": "\n".join(meanings), "content": {"application/json": {"schema": {
            "allOf": [ERROR, {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string", "enum": sorted(codes)}}}}}]}}}}
        if any(e is not None and issubclass(e, NotYetKnown) for errors in codes.values() for e in errors):
            response["headers"] = {"Retry-After": {
                "description": "seconds; on answers worth retrying (the service named was perhaps "
                               "approved a moment ago and this service has not heard of it yet)",
                "schema": {"type": "integer"}}}
        responses[str(status)] = response
    return responses


def _operation(service, name, ep, shared):
    path_params = _PARAM.findall(ep.url)
    op = {"operationId": name if shared else f"{service}_{name}",
          "summary": ep.summary or name.replace("_", " "),
          "tags": ["every service"] if shared else [service],
          "x-spc-role": ep.role if ep.role is not None else "public"}
    params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path_params]
    if ep.query is not None:
        for field, schema in object_schema(ep.query()).get("properties", {}).items():
            params.append({"name": field, "in": "query", "required": False, "schema": schema})
    if params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{ep.body.__name__}"}}}}
    if name == "metrics_text":
        ok = {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}
    else:
        ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    responses = {str(ep.status): ok}
    if ep.role is PUBLIC:
        op["security"] = []
        if name == "health_ready":
            responses["503"] = {"description": "not ready", "content": {"application/json": {
                "schema": {"type": "object"}}}}
    elif ep.role != ANY_ROLE:
        op["description"] = f"Role: `{ep.role}`. Nothing changes when the request is refused."
    else:
        op["description"] = "Any staff role may read."
    responses.update(_errors(ep))
    op["responses"] = responses
    return op


def document():
    paths, schemas, seen = {}, {}, {}
    ops = operations()
    for service, name, ep in ops:
        seen.setdefault((ep.url, ep.method), []).append(service)
    for service, name, ep in ops:
        services = seen[(ep.url, ep.method)]
        shared = len(services) == len(config.SERVICE_NAMES)
        if shared and service != services[0]:
            continue
        path = _PARAM.sub(r"{\1}", ep.url)
        item = paths.setdefault(path, {})
        item[ep.method.lower()] = _operation(service, name, ep, shared)
        if not shared:
            assert item.get("servers", [{}])[0].get("description", service).startswith(service), path
            item["servers"] = [{"url": f"http://localhost:{spec(service).port}",
                                "description": f"{service} (env {service.upper()}_PORT)"}]
        if ep.body is not None:
            schemas[ep.body.__name__] = object_schema(ep.body())
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Service Public Citoyen admin API", "version": VERSION,
                 "description": (
                     "The staff endpoints of SPC's four services (public contract §4). Each service "
                     "listens on its own port; an operation's `servers` says which. `/health/*`, "
                     "`/metrics` and `/standings` exist on every service. Errors are always "
                     "`{\"error\": {\"code\", \"message\", \"details\"}}` with a 4xx status. "
                     "Generated from the code by `spc openapi`."),
                 "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"}},
        "servers": [{"url": f"http://localhost:{port}", "description": name}
                    for name, port in ((n, spec(n).port) for n in config.SERVICE_NAMES)],
        "security": [{"bearer": []}],
        "tags": [{"name": n} for n in (*config.SERVICE_NAMES, "every service")],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "A staff token from SPC_ADMIN_TOKENS; its role is in each operation's "
                               "`x-spc-role` (`any`: every role may read)."}},
            "schemas": schemas},
    }


def render():
    import yaml
    header = ("# Generated by `spc openapi > openapi.yaml` from the services' entrypoints.\n"
              "# tests/unit/test_openapi.py fails when this file and the code disagree.\n")
    return header + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
