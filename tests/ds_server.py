"""Démarches Simplifiées' GraphQL API v2 as the tests run it: a real GraphQL server (ariadne)
over HTTP, its schema written from DS's published API v2 documentation for the part SPC reads
(demarche.dossiers with cursor pagination, `updatedSince` and `order`, at most 100 a page;
demarche.deletedDossiers; dossier(number); champs with `id`, `label`, `stringValue`; states
en_construction, en_instruction, accepte, refuse, sans_suite). It checks the bearer token,
can answer 429, and counts requests. Dossiers are kept as DS would: `change()` bumps a
dossier's `dateDerniereModification`."""
import base64
import itertools
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ariadne import InterfaceType, ObjectType, QueryType, graphql_sync, make_executable_schema

from tests.http_json import send_json

SDL = """
scalar ISO8601DateTime
enum DossierState { en_construction en_instruction accepte refuse sans_suite }
enum Order { ASC DESC }
type Query {
  demarche(number: Int!): Demarche!
  dossier(number: Int!): Dossier!
}
type Mutation {
  dossierEnvoyerMessage(input: DossierEnvoyerMessageInput!): DossierEnvoyerMessagePayload
}
input DossierEnvoyerMessageInput { dossierId: ID! instructeurId: ID! body: String! attachment: ID clientMutationId: String }
type Message { id: ID! body: String! email: String! }
type ValidationError { message: String! }
type DossierEnvoyerMessagePayload { clientMutationId: String errors: [ValidationError!] message: Message }
type Demarche {
  id: ID!
  number: Int!
  title: String!
  dossiers(first: Int, after: String, order: Order = ASC, state: DossierState,
           updatedSince: ISO8601DateTime): DossierConnection!
  deletedDossiers(first: Int, after: String, order: Order = ASC, deletedSince: ISO8601DateTime): DeletedDossierConnection!
}
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type DossierConnection { pageInfo: PageInfo! nodes: [Dossier!]! }
type DeletedDossierConnection { pageInfo: PageInfo! nodes: [DeletedDossier!]! }
type DeletedDossier { id: ID! number: Int! state: DossierState! reason: String! dateSupression: ISO8601DateTime! }
type Revision { id: ID! }
type DemarcheDescriptor { id: ID! number: Int! revision: Revision! }
type Profile { id: ID! email: String! }
type Traitement { id: ID! state: DossierState! emailAgentTraitant: String dateTraitement: ISO8601DateTime! motivation: String }
interface Champ { id: ID! label: String! stringValue: String }
type TextChamp implements Champ { id: ID! label: String! stringValue: String value: String }
type Dossier {
  id: ID!
  number: Int!
  state: DossierState!
  dateDerniereModification: ISO8601DateTime!
  motivation: String
  demarche: DemarcheDescriptor!
  usager: Profile!
  traitements: [Traitement!]!
  champs: [Champ!]!
}
"""


def _b64(text):
    return base64.b64encode(text.encode()).decode()


class DsServer:
    def __init__(self, demarche=4242, token="ds-token", revision="UHJvY2VkdXJlUmV2aXNpb24tMQ=="):
        self.demarche, self.token, self.revision = demarche, token, revision
        self.dossiers, self.deleted = {}, {}
        self.mode, self.requests, self.refused = "ok", [], 0  # refused: answers 429
        self.messages = []  # (dossier number, instructeur id, body) sent with dossierEnvoyerMessage
        self.instructeurs = {"SW5zdHJ1Y3RldXItNDI=": "instructeur@prefecture.gouv.fr"}
        self._clock = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)
        self._numbers = itertools.count(1001)
        query, demarche_type, mutation = QueryType(), ObjectType("Demarche"), ObjectType("Mutation")
        server = self

        @query.field("demarche")
        def resolve_demarche(_, info, number):
            if number != server.demarche:
                raise ValueError(f"Demarche not found: {number}")
            return {"number": number}

        @query.field("dossier")
        def resolve_dossier(_, info, number):
            if number not in server.dossiers:
                raise ValueError(f"Dossier not found: {number}")
            return server._node(server.dossiers[number])

        @demarche_type.field("dossiers")
        def resolve_dossiers(_, info, first=100, after=None, order="ASC", state=None, updatedSince=None):
            first = min(first or 100, 100)
            rows = sorted(server.dossiers.values(), key=lambda d: (d["updated"], d["number"]))
            if updatedSince:
                since = datetime.fromisoformat(updatedSince)
                rows = [d for d in rows if d["updated"] >= since]
            if state:
                rows = [d for d in rows if d["state"] == state]
            start = 0
            if after:
                marker = base64.b64decode(after).decode()
                start = next((i + 1 for i, d in enumerate(rows) if f"{d['updated'].isoformat()}|{d['number']}" == marker),
                             len(rows))
            chunk = rows[start:start + first]
            end = _b64(f"{chunk[-1]['updated'].isoformat()}|{chunk[-1]['number']}") if chunk else after
            return {"pageInfo": {"hasNextPage": start + first < len(rows), "hasPreviousPage": start > 0,
                                 "startCursor": None, "endCursor": end},
                    "nodes": [server._node(d) for d in chunk]}

        @mutation.field("dossierEnvoyerMessage")
        def resolve_message(_, info, input):
            number = next((n for n in server.dossiers if _b64(f"Dossier-{n}") == input["dossierId"]), None)
            if number is None:
                return {"errors": [{"message": "Dossier not found"}], "message": None}
            if input["instructeurId"] not in server.instructeurs:
                return {"errors": [{"message": "Instructeur not found"}], "message": None}
            server.messages.append((number, input["instructeurId"], input["body"]))
            return {"errors": None, "message": {"id": _b64(f"Commentaire-{len(server.messages)}"),
                                                "body": input["body"], "email": server.instructeurs[input["instructeurId"]]}}

        @demarche_type.field("deletedDossiers")
        def resolve_deleted(_, info, first=100, after=None, order="ASC", deletedSince=None):
            rows = sorted(server.deleted.values(), key=lambda d: d["dateSupression"])
            if deletedSince:
                rows = [d for d in rows if d["dateSupression"] > deletedSince]
            return {"pageInfo": {"hasNextPage": False, "hasPreviousPage": False}, "nodes": rows}

        champ_interface = InterfaceType("Champ")

        @champ_interface.type_resolver
        def resolve_champ_type(obj, *_):
            return "TextChamp"

        self.schema = make_executable_schema(SDL, query, demarche_type, mutation, champ_interface)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(payload)
                if self.path != "/api/v2/graphql":
                    return send_json(self, 404, {"errors": [{"message": "not found"}]})
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    return send_json(self, 403, {"errors": [{"message": "Without a token, only public queries"}]})
                if server.mode == "limited":
                    server.refused += 1
                    return send_json(self, 429, {"errors": [{"message": "Too many requests"}]}, {"Retry-After": "1"})
                ok, result = graphql_sync(server.schema, payload)
                return send_json(self, 200, result)


            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/api/v2/graphql"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def _tick(self):
        self._clock += timedelta(minutes=1)
        return self._clock

    def _node(self, d):
        return {"id": _b64(f"Dossier-{d['number']}"), "number": d["number"], "state": d["state"],
                "dateDerniereModification": d["updated"].isoformat(), "motivation": d.get("motivation"),
                "demarche": {"id": _b64(f"Procedure-{self.demarche}"), "number": self.demarche,
                             "revision": {"id": d["revision"]}},
                "usager": {"id": "VXNlci0x", "email": d["email"]},
                "traitements": d["traitements"],
                "champs": [{"id": cid, "label": label, "stringValue": value, "value": value}
                           for cid, (label, value) in d["champs"].items()]}

    def submit(self, champs, email="bureau@asso.example.org", revision=None, number=None):
        """A dossier deposited (en_construction); `champs`: {champ id: (label, value)}."""
        number = number or next(self._numbers)
        self.dossiers[number] = {"number": number, "state": "en_construction", "updated": self._tick(),
                                 "revision": revision or self.revision, "email": email, "champs": dict(champs),
                                 "traitements": []}
        return number

    def change(self, number, state=None, instructeur="instructeur@prefecture.gouv.fr", motivation=None, **champs):
        d = self.dossiers[number]
        d["updated"] = self._tick()
        if state:
            d["state"] = state
            d["traitements"].append({"id": _b64(f"Traitement-{len(d['traitements'])}"), "state": state,
                                     "emailAgentTraitant": instructeur, "dateTraitement": d["updated"].isoformat(),
                                     "motivation": motivation})
            d["motivation"] = motivation
        for cid, value in champs.items():
            label = d["champs"][cid][0]
            d["champs"][cid] = (label, value)

    def delete(self, number):
        d = self.dossiers.pop(number)
        self.deleted[number] = {"id": _b64(f"Dossier-{number}"), "number": number, "state": d["state"],
                                "reason": "user_request", "dateSupression": self._tick().isoformat()}

    def close(self):
        self.http.shutdown()
        self.http.server_close()
