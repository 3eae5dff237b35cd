"""What the stand-ins for outside HTTP APIs share (spc demo, the tests): a JSON answer."""

import json


def send_json(handler, status, body, headers=None):
    """Answer `body` as JSON from a BaseHTTPRequestHandler, with `headers`."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
