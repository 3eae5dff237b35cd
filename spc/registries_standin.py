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

from spc.standin_http import send_json


def unit(siren, name="LES LUTINS", nature="9220", state="A", association=True, rna=None, ess=False):
    return {"siren": siren, "nom_complet": name, "nom_raison_sociale": name, "nature_juridique": nature,
            "etat_administratif": state, "activite_principale": "88.91A", "siege": {"siret": siren + "00017"},
            "complements": {"est_association": association, "identifiant_association": rna, "est_ess": ess,
                            "est_entrepreneur_individuel": False}}


class RegistriesServer:
    def __init__(self, units=()):
        self.units = {u["siren"]: u for u in units}
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
                return send_json(self, 200, {"results": found, "total_results": len(found), "page": 1,
                                        "per_page": per_page, "total_pages": 1 if found else 0})


            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
