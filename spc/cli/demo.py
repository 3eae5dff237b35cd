"""`spc demo`: the whole story, embedded, printed step by step."""

import copy
import getpass
import os
import shutil
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import click

from spc.cli.client import StaffClient, free_port, reserve_ports
from spc.generate.examples import request_example
from spc.shared.core import envelope
from spc.shared.messaging import topology
from spc.shared.messaging.broker import Publisher

DATA = Path(__file__).parent.parent / "data" / "france-services-2024-08-01.csv"
TOKENS = {"registrar": "demo-registrar", "funding_officer": "demo-funding", "auditor": "demo-auditor", "viewer": "demo-viewer"}
SECOND_OFFICER = ("funding_officer/daf-35", "demo-funding-daf")  # the second person for money
DUAL_CONTROL_CENTS = 1_000_000  # above 10,000 €, a payment takes two people


class Api(StaffClient):
    def ask(self, method, service, path, role="viewer", body=None, expect=(200, 201)):
        """The answer's JSON; an unexpected status ends the demo with the answer."""
        resp = self.call(method, service, path, role, body)
        if expect and resp.status_code not in expect:
            raise click.ClickException(f"{method} {path} → {resp.status_code} {resp.text}")
        return resp.json()


def _days(n):
    """An ISO date `n` days from today: the demo's story happens today, whenever it is run."""
    return (date.today() + timedelta(days=n)).isoformat()


def wait_for(what, check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise click.ClickException(f"timed out waiting for {what}")


def step(text):
    click.echo(click.style(f"\n▶ {text}", bold=True))


def run_demo(environ=None):
    data_dir = tempfile.mkdtemp(prefix="spc-demo-")
    try:
        _run_demo_in(data_dir)
    finally:  # its databases, tokens and mapping: nothing of a demo stays behind
        shutil.rmtree(data_dir, ignore_errors=True)


def _run_demo_in(data_dir):
    from spc.runtime import config
    from spc.runtime.runner import Cluster

    ports = reserve_ports(list(config.SERVICE_NAMES))  # held while the demo runs
    tokens_file = Path(data_dir) / "admin-tokens"  # read again when it changes: scoped tokens come later
    tokens_file.write_text("".join(f"{r}/demo:{t}\n" for r, t in TOKENS.items()) + "{}:{}\n".format(*SECOND_OFFICER))
    env = {
        "SPC_DATA_DIR": data_dir,
        "SPC_BIND": "127.0.0.1",
        "SPC_ADMIN_TOKENS_FILE": str(tokens_file),
        "SPC_REPORT_THRESHOLD": "3",  # three reports of one kind about one service open a minor finding
        # the demo adds tokens to the file as it goes and polls until the services have read it:
        # those polls are not guesses (the bound on failed logins: docs/security.md)
        "SPC_AUTH_FAILURES_PER_MINUTE": "0",
        "SPC_DUAL_CONTROL_CENTS": str(DUAL_CONTROL_CENTS),
        **{f"{n.upper()}_PORT": str(p) for n, p in ports.items()},
    }
    # Démarches Simplifiées beside it (spc/standins/ds.py), with one démarche SPC reads
    from spc.standins.ds import Dossiers, StandIn

    demarche = StandIn(Dossiers(DEMARCHE))
    (Path(data_dir) / "ds").mkdir()
    mapping, champs = form_of(application())
    (Path(data_dir) / "ds" / f"{DEMARCHE}.toml").write_text(mapping, encoding="utf-8")
    # and API Recherche d'entreprises beside it too (spc/standins/registries.py), knowing that association
    from spc.standins.registries import RegistriesServer, unit

    registries = RegistriesServer(
        [unit(APPLICANT_SIREN, name="MAISON DES AIDANTS DU PAYS DE SAINT-MALO", rna="W353004242", ess=True)]
    )
    env.update(SPC_IDENTITY_REGISTRY=registries.url)
    env.update(
        SPC_DS_TOKEN=demarche.token,
        SPC_DS_URL=demarche.url,
        SPC_DS_MAPPINGS=str(Path(data_dir) / "ds"),
        SPC_DS_WEBHOOK_SECRET=uuid.uuid4().hex + uuid.uuid4().hex,
        SPC_DS_POLL_SECONDS="1",
        SPC_DS_WRITE_BACK="true",
        SPC_DS_INSTRUCTEUR_ID=INSTRUCTEUR,
    )
    # and an SMTP server standing for the operator's relay: the reminders e-mailed to the services
    mail = MailSink()
    env.update(
        SPC_SMTP_URL=f"smtp://127.0.0.1:{mail.port}",
        SPC_SMTP_FROM="rappels@spc-demo.example.org",
        SPC_REMINDER_SECONDS="1",
        SPC_MAIL_SECONDS="0.5",
    )
    settings = config.load(env)
    click.echo(f"Embedded run: in-process broker, SQLite databases in {data_dir} (removed at the end)")

    step("Distribution loads the France Services network (ANCT, 2024-08-01)")
    imported = import_counters_into(settings, DATA)
    click.echo(f"  {imported} counters imported")

    with Cluster(settings).start():
        api = Api(ports, dict(TOKENS))
        api.tokens_file = tokens_file
        api.demarche = (demarche.dossiers, champs)
        api.mail = mail
        story(api, settings)
    mail.close()
    demarche.close()
    registries.close()
    click.echo(click.style("\nThe story is complete.", fg="green", bold=True))


def _os_user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container's uid with no name
        return f"uid-{os.getuid()}"


def import_counters_into(settings, path, progress=None, quiet=False):
    from spc.services.distribution import anct_csv, handlers

    counters, problems = anct_csv.read_counters_file(path)
    for line, reason in problems:
        click.echo(f"  line {line} skipped: {reason}", err=True)
    database = settings.open_database("distribution")
    try:
        uow = database.uow()
        # the listings the import causes are attributed: SPC_ACTOR (role/label), else the OS user
        uow.actor = os.environ.get("SPC_ACTOR") or f"operator/{_os_user()}"
        uow.correlation_id = f"counters-import-{uuid.uuid4()}"
        if not quiet:
            click.echo(f"  as {uow.actor}, correlation id {uow.correlation_id}", err=True)
        return handlers.import_counters(uow, counters, progress=progress)
    finally:
        database.close()


def story(api, settings):
    step("A registrar registers a parental crèche in Ille-et-Vilaine (35) under the pact")
    svc = api.ask("POST", "registry", "/services", "registrar", demo_pact())
    sid = svc["id"]
    click.echo(f"  service {sid}: {svc['status']}")
    pact = api.ask("GET", "registry", f"/services/{sid}/pact")
    show_pact(pact)
    svc = api.ask("POST", "registry", f"/services/{sid}/approve", "registrar")
    click.echo(f"  approved: {svc['status']}")

    step("Distribution lists it at every France Services counter in department 35")
    listings = wait_for("listings", lambda: _published(api, sid))
    click.echo(f"  listed at {len(listings)} counters")

    step("Funding: a programme, a grant in three tranches, the first one released by two people")
    grant = _fund(
        api,
        sid,
        "Petite enfance 2026",
        50_000_000,
        [
            # due on the pact's first day, in ten days (reminded: SPC_REMINDER_DAYS), and in six months
            {"amount_cents": 1_200_000, "due_date": _days(0), "milestone": "ouverture"},
            {"amount_cents": 1_200_000, "due_date": _days(10), "milestone": "bilan du premier mois"},
            {"amount_cents": 600_000, "due_date": _days(180), "milestone": "bilan de mi-année"},
        ],
    )
    first = grant["tranches"][0]["id"]
    click.echo(f"  grant of {grant['total_cents'] / 100:.2f} €")
    alone = api.ask("POST", "funding", f"/tranches/{first}/release", "funding_officer", expect=(409,))
    click.echo(
        f"  tranche 1 (12,000 €) released by one officer: refused, {alone['error']['code']} "
        f"(above SPC_DUAL_CONTROL_CENTS = {DUAL_CONTROL_CENTS / 100:,.0f} €)"
    )
    request = api.ask(
        "POST",
        "funding",
        "/approvals",
        "funding_officer",
        {"action": "release", "target_id": first, "reason": f"Ouverture constatée le {_days(0)}", "evidence": "PV-CA-2026-01"},
    )
    click.echo(
        f"  requested by {request['requested_by']}: approval {request['id']} {request['status']}, expires {request['expires_at']}"
    )
    same = api.ask("POST", "funding", f"/approvals/{request['id']}/approve", "funding_officer", expect=(409,))
    click.echo(f"  approved by the same person: refused, {same['error']['code']}")
    second = api.call(
        "POST", "funding", f"/approvals/{request['id']}/approve", None, headers={"Authorization": f"Bearer {SECOND_OFFICER[1]}"}
    )
    if second.status_code != 200:
        raise click.ClickException(f"the second officer's approval → {second.status_code} {second.text}")
    tranche = next(t for t in api.ask("GET", "funding", f"/services/{sid}/funding")["grants"][0]["tranches"] if t["id"] == first)
    click.echo(
        f"  approved by {tranche['approved_by']}: tranche 1 {tranche['status']} "
        f"(payment order sent, naming {tranche['released_by']} and {tranche['approved_by']})"
    )

    step("An inspection body reports a MAJOR breach of neutrality, over AMQP to spc.inbound")
    wait_for(
        "audit to know the service", lambda: api.ask("GET", "audit", f"/services/{sid}/findings", expect=None).get("service_id")
    )
    publish_inbound(
        settings.amqp_uri,
        "compliance.violation_reported",
        {
            "service_id": sid,
            "principle": "neutrality",
            "severity": "major",
            "summary": "Political leaflets handed out to parents",
            "reported_by": "inspection-35",
        },
    )
    started = time.monotonic()
    wait_for("suspension", lambda: api.ask("GET", "registry", f"/services/{sid}")["status"] == "suspended")
    wait_for("funding freeze", lambda: api.ask("GET", "funding", f"/services/{sid}/funding")["frozen"])
    wait_for("withdrawal", lambda: not _published(api, sid))
    click.echo(
        f"  registry: suspended; funding: frozen; distribution: all listings withdrawn "
        f"({time.monotonic() - started:.2f} s, no human step)"
    )
    statuses = [t["status"] for t in api.ask("GET", "funding", f"/services/{sid}/funding")["grants"][0]["tranches"]]
    click.echo(f"  tranches: {statuses}")
    refused = api.ask(
        "POST",
        "funding",
        "/approvals",
        "funding_officer",
        {"action": "release", "target_id": grant["tranches"][1]["id"], "reason": "Bilan de mi-année"},
        expect=(409,),
    )
    click.echo(f"  asking to release tranche 2 now is refused: {refused['error']['code']}")

    step("The auditor checks the remediation and resolves the finding")
    finding = api.ask("GET", "audit", f"/services/{sid}/findings")["findings"][0]
    if finding.get("commitment"):
        click.echo(f'  the finding is about what the service committed to: "{finding["commitment"]["text"]}"')
    api.ask(
        "POST",
        "audit",
        f"/findings/{finding['id']}/resolve",
        "auditor",
        {"resolution": "Leaflets withdrawn; staff trained on neutrality"},
    )
    wait_for("reinstatement", lambda: api.ask("GET", "registry", f"/services/{sid}")["status"] == "active")
    wait_for("unfreeze", lambda: not api.ask("GET", "funding", f"/services/{sid}/funding")["frozen"])
    relisted = wait_for("republication", lambda: _published(api, sid))
    statuses = [t["status"] for t in api.ask("GET", "funding", f"/services/{sid}/funding")["grants"][0]["tranches"]]
    click.echo(f"  reinstated: active; tranches {statuses}; listed again at {len(relisted)} counters")

    step("An amendment extends the pact to the Morbihan (56); distribution follows by itself")
    amendment = api.ask(
        "POST",
        "registry",
        f"/services/{sid}/amendments",
        "registrar",
        {"territories": {"departments": ["35", "56"]}, "reason": "Le conseil départemental du Morbihan rejoint le pacte"},
    )
    api.ask("POST", "registry", f"/services/{sid}/amendments/{amendment['id']}/approve", "registrar")
    before = len(relisted)
    wider = wait_for("listings in 56", lambda: (lambda found: found if len(found) > before else None)(_published(api, sid)))
    pact = api.ask("GET", "registry", f"/services/{sid}/pact")
    status = api.ask("GET", "registry", f"/services/{sid}")["status"]
    click.echo(
        f"  pact version {pact['version']} (versions {[v['version'] for v in pact['versions']]}); "
        f"listed at {len(wider)} counters (was {before}); status still {status}"
    )

    voices(api, sid, wider)

    from_demarches(api, *api.demarche)

    step("Anyone can check, with no account: one public request")
    url = f"http://127.0.0.1:{api.ports['funding']}/public/services/{sid}/funding"
    public = api.call("GET", "funding", f"/public/services/{sid}/funding", None).json()
    click.echo(f"  GET {url}")
    click.echo(
        f"  → status {public['status']}; awarded {public['awarded_cents'] / 100:.2f} €, "
        f"released {public['released_cents'] / 100:.2f} €"
    )
    click.echo("  the same as pages anyone reads, in French, on the State design system (no token, no JavaScript):")
    for what, service, path in (
        ("the services in Ille-et-Vilaine", "registry", "/public/pages/services?departement=35"),
        ("the crèche: mission, commitments, standing", "registry", f"/public/pages/services/{sid}"),
        ("its money, tranche by tranche", "funding", f"/public/pages/services/{sid}/funding"),
    ):
        page = api.call("GET", service, path, None)
        click.echo(
            f"    {what}: http://127.0.0.1:{api.ports[service]}{path}  ({page.status_code}, {len(page.content) // 1024} KiB)"
        )
    click.echo("  open data: spc export registry / grants / journal (docs/open-data.md, docs/verify-journal.md)")

    deadlines(api, sid)

    step("The audit journal's hash chain verifies")
    time.sleep(0.5)
    click.echo(f"  {api.ask('GET', 'audit', '/journal/verify', 'auditor')}")


DEMARCHE = 4242
APPLICANT_SIREN = "771000429"  # made up (a valid check digit); the registries' stand-in knows it
INSTRUCTEUR = "SW5zdHJ1Y3RldXItNDI="  # the DS instructor the messages to applicants come from


def application(today=None):
    """What an association fills in on Démarches Simplifiées: a full pact, in Ille-et-Vilaine."""
    body = demo_pact(today)
    body.update(
        name="Maison des aidants du pays de Saint-Malo",
        rna="W353004242",
        siren=APPLICANT_SIREN,
        mission="Accueil, écoute et répit pour les proches aidants de personnes âgées.",
        domains=["aide aux aidants", "personnes âgées"],
        contact_email="contact@aidants-stmalo.example.org",
    )
    return body


def form_of(body):
    """The démarche's form for `body`: its mapping file (each part of the pact in a champ of its
    own, as a démarche's administrator writes it: docs/integrating.md) and the champs an applicant
    fills in ({champ id: (label, value)})."""
    import base64
    from spc.standins.ds import REVISION

    leaves = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list) and node and isinstance(node[0], dict) and path != "commitments":
            for i, value in enumerate(node):
                walk(value, f"{path}.{i}")
        elif path == "commitments":
            for c in node:
                leaves.append((f"commitments.{c['principle']}", c["text"]))
        elif node is not None:
            leaves.append(
                (
                    path,
                    ", ".join(node)
                    if isinstance(node, list)
                    else ("Oui" if node is True else "Non" if node is False else str(node)),
                )
            )

    walk(body, "")
    ids = {path: base64.b64encode(f"Champ-{101 + i}".encode()).decode() for i, (path, _) in enumerate(leaves)}
    mapping = f'demarche = {DEMARCHE}\n\n[revisions."{REVISION}"]\n' + "".join(
        f'"{path}" = "{ids[path]}"\n' for path, _ in leaves
    )
    return mapping, {ids[path]: (path, value) for path, value in leaves}


def from_demarches(api, dossiers, champs):
    """Issue 20: an application through Démarches Simplifiées, to a funded and listed service."""
    step("An association applies through Démarches Simplifiées; the registry reads the démarche")
    number = dossiers.submit(champs, email="contact@aidants-stmalo.example.org")
    name = champs[next(c for c, (path, _) in champs.items() if path == "name")][1]
    found = wait_for(
        "the application registered",
        lambda: next((s for s in api.ask("GET", "registry", "/services?limit=100")["items"] if s["name"] == name), None),
    )
    sid = found["id"]
    click.echo(f"  dossier {number} → service {sid}: {found['status']} (read by polling, no one typed it)")
    identity = api.ask("GET", "registry", f"/services/{sid}")["identity"]
    click.echo(
        f"  its SIREN and RNA checked against the national registries: {identity['outcome']} "
        f"({identity['source']}, a stand-in here)"
    )
    dossiers.change(number, state="en_instruction")
    dossiers.change(number, state="accepte", instructeur="claire.le-goff@ille-et-vilaine.gouv.fr")
    wait_for("the approval", lambda: api.ask("GET", "registry", f"/services/{sid}")["status"] == "active")
    click.echo("  accepted in DS by claire.le-goff@ille-et-vilaine.gouv.fr → active (the approval is hers)")

    step("It is funded and listed like any other")
    grant = _fund(
        api, sid, "Aide aux aidants 2026", 20_000_000, [{"amount_cents": 800_000, "due_date": _days(0), "milestone": "ouverture"}]
    )
    api.ask("POST", "funding", f"/tranches/{grant['tranches'][0]['id']}/release", "funding_officer")
    listings = wait_for("its listings", lambda: _published(api, sid))
    click.echo(
        f"  grant of {grant['total_cents'] / 100:.2f} € released by one officer (below "
        f"{DUAL_CONTROL_CENTS / 100:,.0f} €); listed at {len(listings)} counters"
    )


def _fund(api, sid, programme, budget_cents, tranches):
    """A programme opened, and once funding knows the service (its approval reached it), a grant
    from it in `tranches`: the grant's answer."""
    prog = api.ask("POST", "funding", "/programmes", "funding_officer", {"name": programme, "budget_cents": budget_cents})
    wait_for("funding to know the service", lambda: api.ask("GET", "funding", f"/services/{sid}/funding")["status"] == "active")
    body = {"programme_id": prog["id"], "service_id": sid, "tranches": tranches}
    return api.ask("POST", "funding", "/grants", "funding_officer", body)


class MailSink:
    """An SMTP server on a free local port (aiosmtpd) keeping what it receives: the demo's stand-in
    for the operator's relay (SPC_SMTP_URL)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.received, self.port = [], free_port()
        self.server = Controller(self, hostname="127.0.0.1", port=self.port)
        self.server.start()

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def close(self):
        self.server.stop()


def deadlines(api, sid):
    step("Deadlines said before they pass: the crèche's agenda, and its reminders by e-mail")
    agenda = api.ask("GET", "funding", f"/services/{sid}/agenda?within=30d")["items"]
    for item in agenda:
        click.echo(f"  funding agenda: {item['due_on']} ({item['days_left']:+d} days) {item['title']}")
    term = api.ask("GET", "registry", f"/services/{sid}/agenda?within=999d")["items"]
    for item in term:
        click.echo(f"  registry agenda: {item['due_on']} {item['title']}")
    contact = api.ask("GET", "registry", f"/services/{sid}/pact")["pact"]["contact_email"]
    mails = wait_for("a reminder e-mail", lambda: [m for m in api.mail.received if m["To"] == contact], timeout=30)
    click.echo(f"  {len(api.mail.received)} e-mails received by the SMTP relay (SPC_SMTP_URL); the first:")
    first = mails[0]
    click.echo(f"    To: {first['To']}\n    Subject: {first['Subject']}")
    for line in first.get_content().strip().splitlines():
        click.echo(f"    | {line}")


def grant_token(api, role, label, secret):
    """A scoped token, added to the tokens file the services read again when it changes."""
    with open(api.tokens_file, "a", encoding="utf-8") as handle:
        handle.write(f"{role}/{label}:{secret}\n")
    api.tokens[role] = secret
    wait_for(
        f"the {role} token",
        lambda: api.call("GET", "audit", "/health/live", None).status_code == 200 and _accepted(api, role, label),
    )


def _accepted(api, role, label):
    path = f"/counters/{label.split('+')[0]}/catalogue" if role == "counter_agent" else f"/services/{label}/dossier"
    return api.call("GET", "distribution" if role == "counter_agent" else "audit", path, role).status_code == 200


def voices(api, sid, listings):
    """Issue 12's part of the story: a counter agent, citizens' reports, the service's own voice."""
    step("At a France Services counter, an agent shows the catalogue and relays visitors' reports")
    counter_id = listings[0]["counter_id"]
    grant_token(api, "counter_agent", counter_id, "demo-agent")
    catalogue = api.ask("GET", "distribution", f"/counters/{counter_id}/catalogue", "counter_agent")
    counter = catalogue["counter"]
    click.echo(
        f"  {counter['name']} ({counter['address']}): services listed there: {len(catalogue['services'])}; "
        f"the printable page is GET /counters/{counter_id}/catalogue.html"
    )
    for text in (
        "On m'a refusé une place sans explication.",
        "Inscription refusée : « plus de place », mais une voisine a été prise le lendemain.",
        "Refus d'inscription sans réponse écrite.",
    ):
        api.ask(
            "POST",
            "distribution",
            f"/counters/{counter_id}/reports",
            "counter_agent",
            {"service_id": sid, "category": "refused_access", "text": text},
            expect=(202,),
        )
    click.echo(
        "  three reports of refused access relayed (usager.report_submitted, the counter named; "
        "their texts stay with audit, never on spc.events nor in a log)"
    )
    finding = wait_for(
        "the report threshold",
        lambda: next(
            (f for f in api.ask("GET", "audit", f"/services/{sid}/findings")["findings"] if f["severity"] == "minor"), None
        ),
    )
    click.echo(
        f"  a minor finding opened by itself on '{finding['principle']}' (3 reports within the window); "
        f"the service stays {api.ask('GET', 'registry', f'/services/{sid}')['status']}"
    )

    step("The crèche answers with its own token; the auditor resolves")
    grant_token(api, "service", sid, "demo-service")
    api.ask(
        "POST",
        "audit",
        f"/services/{sid}/findings/{finding['id']}/answer",
        "service",
        {
            "plan": "Les règles d'attribution des places seront affichées et chaque refus motivé par écrit.",
            "due_on": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    api.ask(
        "POST",
        "audit",
        f"/services/{sid}/findings/{finding['id']}/done",
        "service",
        {"note": "Règles affichées à l'entrée et sur le site ; modèle de réponse écrite adopté."},
    )
    api.ask(
        "POST",
        "audit",
        f"/findings/{finding['id']}/resolve",
        "auditor",
        {"resolution": "Règles affichées, refus motivés : vérifié sur place."},
    )
    click.echo("  the crèche answered with a plan and a date, reported it done; the auditor checked and resolved")
    dossier = api.ask("GET", "audit", f"/services/{sid}/dossier", "service")
    click.echo(
        f"  dossier: {len(dossier['findings'])} findings, reports by category "
        f"{dossier['reports']['by_category']}, {len(dossier['decisions'])} decisions, "
        f"pact versions {[v['pact_version'] for v in dossier['pact_versions']]}"
    )


def demo_pact(today=None):
    """The crèche's full pact: the example of openapi.yaml, in 35, its term running from today."""
    today = today or date.today()
    body = copy.deepcopy(request_example("registry", "register"))
    body.update(
        name="Crèche parentale Les Lutins", territories={"departments": ["35"]}, contact_email="bureau@leslutins.example.org"
    )
    body["signatories"]["signed_on"] = (today - timedelta(days=7)).isoformat()
    body["term"] = {
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=3 * 365)).isoformat(),
        "pilot": True,
        "evaluation_on": (today + timedelta(days=540)).isoformat(),
    }
    return body


def show_pact(pact):
    doc = pact["pact"]
    signatories, term = doc["signatories"], doc["term"]
    rep, counterpart = signatories["legal_representative"], signatories["public_counterpart"]
    click.echo(
        f"  pact version {pact['version']}, signed on {signatories['signed_on']} by {rep['name']} "
        f"({rep['role']}) and {counterpart['name']}; term {term['starts_on']} → {term['ends_on']}"
        + (f", pilot evaluated on {term['evaluation_on']}" if term.get("pilot") else "")
    )
    click.echo(
        f"  governance: {', '.join(b['name'] for b in doc['governance']['bodies'])}; "
        f"responsible {doc['governance']['responsible']['name']}"
    )
    for commitment in doc["commitments"]:
        click.echo(f"    {commitment['principle']:<19} {commitment['text']}")


def _published(api, sid):
    body = api.ask("GET", "distribution", f"/services/{sid}/listings", expect=None)
    return [x for x in body.get("listings", []) if x["status"] == "published"]


def publish_inbound(uri, event_type, payload, producer="spc-demo"):
    event = envelope.Event(event_type, payload, producer, event_id=str(uuid.uuid4()))
    publisher = Publisher(uri)
    try:
        publisher.publish_event(event, exchange=topology.INBOUND)
    finally:
        publisher.close()
    return event
