"""Démarches Simplifiées' GraphQL API v2 as the tests run it: a real GraphQL server (ariadne)
over HTTP, its schema written from DS's published API v2 documentation for the part SPC reads
(demarche.dossiers with cursor pagination, `updatedSince` and `order`, at most 100 a page;
demarche.deletedDossiers; dossier(number); champs with `id`, `label`, `stringValue`; states
en_construction, en_instruction, accepte, refuse, sans_suite). It checks the bearer token,
can answer 429, and counts requests. Dossiers are kept as DS would: `change()` bumps a
dossier's `dateDerniereModification`."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ariadne import InterfaceType, ObjectType, QueryType, graphql_sync, make_executable_schema

from spc.standins.ds import REVISION, Dossiers
from spc.standins.http import send_json

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
scalar ISO8601Date
interface Champ { id: ID! label: String! stringValue: String }
type TextChamp implements Champ { id: ID! label: String! stringValue: String value: String }
type DateChamp implements Champ { id: ID! label: String! stringValue: String date: ISO8601Date }
type Departement { name: String! code: String! }
type DepartementChamp implements Champ { id: ID! label: String! stringValue: String departement: Departement }
type Commune { name: String! code: String! postalCode: String }
type CommuneChamp implements Champ { id: ID! label: String! stringValue: String commune: Commune departement: Departement }
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


class DsServer:
    """DS's GraphQL API over `Dossiers` (spc/standins/ds.py: what DS keeps); `submit`, `change`,
    `delete` act as applicants and instructors do, `messages` holds what SPC sent."""

    def __init__(self, demarche=4242, token="ds-token", revision=REVISION):
        self.store = Dossiers(demarche, revision)
        self.demarche, self.token = demarche, token
        self.mode, self.requests, self.refused = "ok", [], 0  # refused: answers 429
        query, demarche_type, mutation = QueryType(), ObjectType("Demarche"), ObjectType("Mutation")
        champ_interface = InterfaceType("Champ")
        server = self

        @query.field("demarche")
        def resolve_demarche(_, info, number):
            if number != server.demarche:
                raise ValueError(f"Demarche not found: {number}")
            return {"number": number}

        @query.field("dossier")
        def resolve_dossier(_, info, number):
            if number not in server.store.rows:
                raise ValueError(f"Dossier not found: {number}")
            return server.store.node(number)

        @demarche_type.field("dossiers")
        def resolve_dossiers(_, info, first=100, after=None, order="ASC", state=None, updatedSince=None):
            return server.store.page(first, after, updatedSince, state)

        @demarche_type.field("deletedDossiers")
        def resolve_deleted(_, info, first=100, after=None, order="ASC", deletedSince=None):
            return server.store.deleted_since(deletedSince)

        @mutation.field("dossierEnvoyerMessage")
        def resolve_message(_, info, input):
            return server.store.send_message(input["dossierId"], input["instructeurId"], input["body"])

        @champ_interface.type_resolver
        def resolve_champ_type(obj, *_):
            return obj.get("__typename", "TextChamp")

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

    @property
    def messages(self):
        return self.store.messages

    def submit(self, champs, email="bureau@asso.example.org", revision=None, number=None):
        return self.store.submit(champs, email, revision, number)

    def change(self, number, state=None, instructeur="instructeur@prefecture.gouv.fr", motivation=None, **champs):
        self.store.change(number, state, instructeur, motivation, **champs)

    def delete(self, number):
        self.store.delete(number)

    def close(self):
        self.http.shutdown()
        self.http.server_close()
