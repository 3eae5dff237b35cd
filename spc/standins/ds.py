"""Démarches Simplifiées' dossiers, kept as DS keeps them, for `spc demo` and the tests.

`Dossiers` holds a démarche's dossiers and answers what SPC asks of DS's GraphQL API v2 in DS's
shapes: a page of dossiers changed since a moment, by last change, after a cursor (100 at most),
those deleted since, one dossier, and a message sent on one. `StandIn` serves it over HTTP for
the demo, answering SPC's own four operations only (it is not a GraphQL server: the tests run
one written from DS's published schema, tests/ds_server.py, over the same `Dossiers`)."""

import base64
import itertools
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from spc.standins.http import send_json

REVISION = "UHJvY2VkdXJlUmV2aXNpb24tMQ=="


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Dossiers:
    def __init__(self, demarche=4242, revision=REVISION):
        self.demarche, self.revision = demarche, revision
        self.rows, self.deleted, self.messages = {}, {}, []
        self.instructeurs = {"SW5zdHJ1Y3RldXItNDI=": "instructeur@prefecture.gouv.fr"}
        self._clock = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)
        self._numbers = itertools.count(1001)
        self._lock = threading.Lock()

    def _tick(self):
        self._clock += timedelta(minutes=1)
        return self._clock

    # -- what applicants and instructors do in DS -------------------------------------------------
    def submit(self, champs, email="bureau@asso.example.org", revision=None, number=None):
        """A dossier deposited (en_construction); `champs`: {champ id: (label, value)}."""
        with self._lock:
            number = number or next(self._numbers)
            self.rows[number] = {
                "number": number,
                "state": "en_construction",
                "updated": self._tick(),
                "revision": revision or self.revision,
                "email": email,
                "champs": dict(champs),
                "traitements": [],
                "motivation": None,
            }
        return number

    def change(self, number, state=None, instructeur="instructeur@prefecture.gouv.fr", motivation=None, **champs):
        with self._lock:
            d = self.rows[number]
            d["updated"] = self._tick()
            if state:
                d["state"], d["motivation"] = state, motivation
                d["traitements"].append(
                    {
                        "id": b64(f"Traitement-{len(d['traitements'])}"),
                        "state": state,
                        "emailAgentTraitant": instructeur,
                        "dateTraitement": d["updated"].isoformat(),
                        "motivation": motivation,
                    }
                )
            for cid, value in champs.items():
                d["champs"][cid] = (d["champs"][cid][0], value)

    def delete(self, number):
        with self._lock:
            d = self.rows.pop(number)
            self.deleted[number] = {
                "id": b64(f"Dossier-{number}"),
                "number": number,
                "state": d["state"],
                "reason": "user_request",
                "dateSupression": self._tick().isoformat(),
            }

    # -- what SPC asks ------------------------------------------------------------------------------
    def node(self, number):
        d = self.rows[number]
        return {
            "id": b64(f"Dossier-{d['number']}"),
            "number": d["number"],
            "state": d["state"],
            "dateDerniereModification": d["updated"].isoformat(),
            "motivation": d["motivation"],
            "demarche": {"id": b64(f"Procedure-{self.demarche}"), "number": self.demarche, "revision": {"id": d["revision"]}},
            "usager": {"id": "VXNlci0x", "email": d["email"]},
            "traitements": list(d["traitements"]),
            "champs": [_champ(cid, label, value) for cid, (label, value) in d["champs"].items()],
        }

    def page(self, first=100, after=None, updated_since=None, state=None):
        """A DossierConnection: by last change, from `updated_since`, after the cursor."""
        first = min(first or 100, 100)
        rows = sorted(self.rows.values(), key=lambda d: (d["updated"], d["number"]))
        if updated_since:
            rows = [d for d in rows if d["updated"] >= datetime.fromisoformat(updated_since)]
        if state:
            rows = [d for d in rows if d["state"] == state]
        start = 0
        if after:  # a cursor holds the values it stopped at: rows changed since come after it
            updated, number = base64.b64decode(after).decode().rsplit("|", 1)
            marker = (datetime.fromisoformat(updated), int(number))
            start = next((i for i, d in enumerate(rows) if (d["updated"], d["number"]) > marker), len(rows))
        chunk = rows[start : start + first]
        end = b64(f"{chunk[-1]['updated'].isoformat()}|{chunk[-1]['number']}") if chunk else after
        return {
            "pageInfo": {
                "hasNextPage": start + first < len(rows),
                "hasPreviousPage": start > 0,
                "startCursor": None,
                "endCursor": end,
            },
            "nodes": [self.node(d["number"]) for d in chunk],
        }

    def deleted_since(self, since=None):
        rows = sorted(self.deleted.values(), key=lambda d: d["dateSupression"])
        return {
            "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
            "nodes": [d for d in rows if not since or d["dateSupression"] > since],
        }

    def send_message(self, dossier_id, instructeur_id, body):
        """A DossierEnvoyerMessagePayload."""
        number = next((n for n in self.rows if b64(f"Dossier-{n}") == dossier_id), None)
        if number is None:
            return {"errors": [{"message": "Dossier not found"}], "message": None}
        if instructeur_id not in self.instructeurs:
            return {"errors": [{"message": "Instructeur not found"}], "message": None}
        self.messages.append((number, instructeur_id, body))
        return {
            "errors": None,
            "message": {"id": b64(f"Commentaire-{len(self.messages)}"), "body": body, "email": self.instructeurs[instructeur_id]},
        }


def _champ(cid, label, value):
    """A champ as DS gives it: a text one (`value` a string), or a typed one (`value` a dict with
    its `__typename`, `stringValue` and typed fields: DateChamp `date`, DepartementChamp
    `departement {code, name}`, CommuneChamp `commune {code, name}`)."""
    if isinstance(value, dict):
        return {"id": cid, "label": label, **value}
    return {"__typename": "TextChamp", "id": cid, "label": label, "stringValue": value, "value": value}


class StandIn:
    """`Dossiers` over HTTP at `url`, for the demo: SPC's four operations, by their names."""

    def __init__(self, dossiers, token=None):
        import secrets

        self.dossiers, self.token = dossiers, token or secrets.token_hex(16)  # a token of this run's own
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                if self.headers.get("Authorization") != f"Bearer {standin.token}":
                    return send_json(self, 403, {"errors": [{"message": "Without a token, only public queries"}]})
                return send_json(self, 200, standin.answer(request.get("query") or "", request.get("variables") or {}))

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/api/v2/graphql"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def answer(self, query, v):
        d = self.dossiers
        if "spcDossiers" in query:
            return {
                "data": {
                    "demarche": {"number": d.demarche, "dossiers": d.page(v.get("first"), v.get("after"), v.get("updatedSince"))}
                }
            }
        if "spcDeleted" in query:
            return {"data": {"demarche": {"deletedDossiers": d.deleted_since(v.get("deletedSince"))}}}
        if "spcDossier" in query:
            if v.get("number") not in d.rows:
                return {"data": None, "errors": [{"message": f"Dossier not found: {v.get('number')}"}]}
            return {"data": {"dossier": d.node(v["number"])}}
        if "spcMessage" in query:
            i = v.get("input") or {}
            return {"data": {"dossierEnvoyerMessage": d.send_message(i.get("dossierId"), i.get("instructeurId"), i.get("body"))}}
        return {"data": None, "errors": [{"message": "this stand-in answers SPC's own queries only"}]}

    def close(self):
        self.http.shutdown()
        self.http.server_close()
