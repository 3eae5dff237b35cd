"""A small OpenID Connect provider for the tests, built with the library SPC checks tokens with
(PyJWT, keys from cryptography): it serves its discovery document and its key set (JWKS) over
real HTTP, and signs access tokens as Keycloak or ProConnect would. It can rotate its keys, sign
with a key it does not publish, and counts how often its key set is fetched."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "spc-admin-api"


class Provider:
    def __init__(self, realm="spc"):
        self.keys = {}  # kid -> (alg, private key)
        self.published = []  # the kids its JWKS lists
        self.jwks_fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/.well-known/openid-configuration"):
                    body = {
                        "issuer": provider.issuer,
                        "jwks_uri": provider.issuer + "/protocol/openid-connect/certs",
                        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                    }
                elif self.path.endswith("/protocol/openid-connect/certs"):
                    provider.jwks_fetches += 1
                    body = {"keys": [provider._jwk(kid) for kid in provider.published]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}/realms/{realm}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.kid = self.add_key("RS256")

    def add_key(self, alg="RS256", publish=True):
        kid = uuid.uuid4().hex[:12]
        private = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if alg == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.keys[kid] = (alg, private)
        if publish:
            self.published.append(kid)
        return kid

    def rotate(self, alg="RS256"):
        """A new signing key, published beside the old one (as providers rotate)."""
        self.kid = self.add_key(alg)
        return self.kid

    def _jwk(self, kid):
        alg, private = self.keys[kid]
        algorithm = RSAAlgorithm if alg == "RS256" else ECAlgorithm
        jwk = algorithm.to_jwk(private.public_key(), as_dict=True)
        return dict(jwk, kid=kid, use="sig", alg=alg)

    def token(self, kid=None, lifetime=300, **claims):
        """A signed access token; `claims` override the defaults (None removes one)."""
        kid = kid or self.kid
        alg, private = self.keys[kid]
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "f2b7c3e0-marie",
            "iat": now,
            "exp": now + lifetime,
            "groups": ["spc-registrars"],
            "preferred_username": "marie",
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, private, algorithm=alg, headers={"kid": kid})

    def close(self):
        self.server.shutdown()
        self.server.server_close()


ROLES_FILE = """\
# which claim holds the user's groups (Keycloak: a "groups" mapper; realm roles: realm_access.roles)
roles_claim = "groups"

[staff]
"spc-registrars" = "registrar"
"spc-funding-officers" = "funding_officer"
"spc-auditors" = "auditor"

[scoped.counter_agent]
role_value = "france-services-agents"
ids_claim = "spc_counters"

[scoped.service]
role_value = "spc-services"
ids_claim = "spc_service_id"
"""
