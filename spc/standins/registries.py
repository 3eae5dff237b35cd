"""API Recherche d'entreprises as `spc demo` and the tests run it: real HTTP, `GET /search?q=&page=&per_page=`
answering `{results, total_results, page, per_page, total_pages}` with each unit's `siren`,
`nom_complet`, `nature_juridique`, `etat_administratif` and `complements` (`est_association`,
`identifiant_association`, `est_ess`), the shapes of its published answers. It refuses a
`per_page` over 25 (400), and can be told to answer 429 with `Retry-After`, fail (500), or be
slow; it records each request's time."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from spc.standins.http import send_json


def unit(siren, name="LES LUTINS", nature="9220", state="A", association=True, rna=None, ess=False):
    return {
        "siren": siren,
        "nom_complet": name,
        "nom_raison_sociale": name,
        "nature_juridique": nature,
        "etat_administratif": state,
        "activite_principale": "88.91A",
        "siege": {"siret": siren + "00017"},
        "complements": {
            "est_association": association,
            "identifiant_association": rna,
            "est_ess": ess,
            "est_entrepreneur_individuel": False,
        },
    }


RNA_PATH = "/v4/djepva/api-association/associations/open_data/"


def association(rna, name="LES LUTINS", siren=None, nature="9220", active=True):
    """API Entreprise's open-data answer for an association (its `data`)."""
    return {
        "rna": rna,
        "ancien_id": None,
        "siren": siren,
        "nom": name,
        "sigle": None,
        "reconnue_utilite_publique": False,
        "forme_juridique": {"code": nature, "libelle": "Association déclarée"},
        "regime": "Loi 1901",
        "date_dissolution": None if active else "2024-06-30",
        "active": active,
        "date_creation": "2012-09-01",
    }


class RegistriesServer:
    """API Recherche d'entreprises (`/search`) and, with a token, API Entreprise's associations
    in open data (`/v4/djepva/api-association/associations/open_data/<rna>`, which needs
    `Authorization: Bearer <token>` and a `recipient`)."""

    def __init__(self, units=(), associations=(), token=None):
        import secrets

        self.units = {u["siren"]: u for u in units}
        self.associations = {a["rna"]: a for a in associations}
        self.token = token or secrets.token_hex(16)  # a token of this run's own
        self.mode, self.retry_after, self.delay = "ok", "2", 0.0
        self.requests = []  # (monotonic time, query)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                server.requests.append((time.monotonic(), query))
                if server.delay:
                    time.sleep(server.delay)
                if url.path.startswith(RNA_PATH):
                    return server._association(self, url.path[len(RNA_PATH) :], query)
                if url.path != "/search":
                    return send_json(self, 404, {"erreur": "not found"})
                if server.mode == "limited":
                    return send_json(self, 429, {"erreur": "Trop de requêtes"}, {"Retry-After": server.retry_after})
                if server.mode == "failing":
                    return send_json(self, 500, {"erreur": "Internal Server Error"})
                per_page = int(query.get("per_page", 10))
                if per_page > 25 or not query.get("q"):
                    return send_json(self, 400, {"erreur": "Veuillez indiquer un paramètre de recherche valide"})
                found = [u for s, u in server.units.items() if s == query["q"].strip()]
                return send_json(
                    self,
                    200,
                    {
                        "results": found,
                        "total_results": len(found),
                        "page": 1,
                        "per_page": per_page,
                        "total_pages": 1 if found else 0,
                    },
                )

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _association(self, handler, rna, query):
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return send_json(handler, 401, {"errors": [{"code": "00101", "title": "Interdit"}]})
        if not all(query.get(k) for k in ("context", "object", "recipient")):
            return send_json(
                handler,
                422,
                {
                    "errors": [
                        {"code": "00201", "title": "Entité non traitable", "detail": "context, object and recipient are required"}
                    ]
                },
            )
        if self.mode == "limited":
            return send_json(handler, 429, {"errors": [{"title": "Too many requests"}]}, {"Retry-After": self.retry_after})
        if rna not in self.associations:
            return send_json(handler, 404, {"errors": [{"code": "04001", "title": "Entité non trouvée"}]})
        return send_json(handler, 200, {"data": self.associations[rna], "links": {}, "meta": {}})

    def close(self):
        self.server.shutdown()
        self.server.server_close()
