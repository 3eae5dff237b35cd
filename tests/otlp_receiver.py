"""An OTLP/HTTP trace receiver, as a collector's `otlp` receiver on port 4318 is: `POST /v1/traces`
with an ExportTraceServiceRequest (protobuf, gzip or not), answered with an empty
ExportTraceServiceResponse. The spans it received are kept for the test to read, and drawn as a
waterfall (SVG) for docs/operations.md."""

import gzip
import threading
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


@dataclass
class Span:
    service: str
    trace_id: str
    span_id: str
    parent_id: str  # "" for a root
    name: str
    kind: str
    start: int  # ns since the epoch
    end: int
    attributes: dict = field(default_factory=dict)
    status: int = 0  # 0 unset, 1 ok, 2 error
    links: list = field(default_factory=list)  # (trace_id, span_id)


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


class Receiver:
    def __init__(self):
        self.spans, self.requests, self._lock = [], 0, threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces" or "protobuf" not in (self.headers.get("Content-Type") or ""):
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver.take(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def take(self, request):
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    spans.append(
                        Span(
                            resource.get("service.name", ""),
                            s.trace_id.hex(),
                            s.span_id.hex(),
                            s.parent_span_id.hex(),
                            s.name,
                            KINDS.get(s.kind, str(s.kind)),
                            s.start_time_unix_nano,
                            s.end_time_unix_nano,
                            {a.key: _value(a.value) for a in s.attributes},
                            s.status.code,
                            [(link.trace_id.hex(), link.span_id.hex()) for link in s.links],
                        )
                    )
        with self._lock:
            self.requests += 1
            self.spans.extend(spans)

    def trace(self, trace_id):
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]


def ancestry(spans, span):
    """`span`, its parent, its parent's parent... as far as the spans given go."""
    by_id, chain = {s.span_id: s for s in spans}, [span]
    while chain[-1].parent_id in by_id:
        chain.append(by_id[chain[-1].parent_id])
    return chain


def waterfall_svg(spans, title, width=1100):
    """The spans of one trace as a waterfall: one bar a span, indented under its parent, coloured
    by service, in time order (what a tracing UI shows)."""
    by_parent = {}
    for s in sorted(spans, key=lambda s: s.start):
        by_parent.setdefault(s.parent_id, []).append(s)
    ids = {s.span_id for s in spans}
    rows = []

    def walk(span, depth):
        rows.append((span, depth))
        for child in by_parent.get(span.span_id, []):
            walk(child, depth + 1)

    for root in sorted((s for s in spans if s.parent_id not in ids), key=lambda s: s.start):
        walk(root, 0)
    start, end = min(s.start for s in spans), max(s.end for s in spans)
    total = max(end - start, 1)
    colours = {"spc-audit": "#6a6af4", "spc-registry": "#009081", "spc-funding": "#c3992a", "spc-distribution": "#ce614a"}
    label_w, row_h, top = 430, 18, 46
    bar_w = width - label_w - 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + row_h * len(rows) + 30}" '
        'font-family="DejaVu Sans, sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="10" y="36" fill="#555">{len(rows)} spans, {total / 1e6:.1f} ms in all; '
        "colour: service (audit, registry, funding, distribution)</text>",
    ]
    for n, (span, depth) in enumerate(rows):
        y = top + n * row_h
        x = label_w + bar_w * (span.start - start) / total
        w = max(2.0, bar_w * (span.end - span.start) / total)
        colour = colours.get(span.service, "#888")
        name = f"{span.service.removeprefix('spc-')}: {span.name}"
        if len(name) > 58 - depth:
            name = name[: 55 - depth] + "…"
        out.append(f'<text x="{10 + depth * 10}" y="{y + 12}">{escape(name)}</text>')
        failed = ' stroke="#c00" stroke-width="2"' if span.status == 2 else ""
        out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{colour}"{failed}/>')
        took = f"{(span.end - span.start) / 1e6:.1f} ms"
        if x + w + 60 < width:
            out.append(f'<text x="{x + w + 4:.1f}" y="{y + 12}" fill="#333">{took}</text>')
        else:  # no room on its right: on its left
            out.append(f'<text x="{x - 4:.1f}" y="{y + 12}" fill="#333" text-anchor="end">{took}</text>')
    out.append("</svg>")
    return "\n".join(out)
