"""The click command tree behind `spc`.

Every command's expected failures (a broker or database it cannot reach or that refuses it, a
missing or malformed file, a setting it cannot use, a port in use) end in one line on stderr,
`spc <command>: <what went wrong>`, and exit code 2; a bug keeps its traceback. SPC_DEBUG=1 (or
`spc -v`) shows the traceback of every failure and the libraries' logs."""

import logging
import os
import re
import signal
import sys

import click

from spc.runtime import config
from spc.runtime.logs import BadLogFormat, configure as configure_logging, log_format

from .errors import EXIT_FAILED, debug_asked, describe, mask_url

_SERVING = {"up", "run"}  # their logs are the services' logs (INFO); other commands log warnings


def _debug():
    return debug_asked(os.environ, click.get_current_context().find_root().params.get("verbose"))


class Command(click.Command):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            message = describe(exc)
            if message is None or _debug():
                raise
            click.echo(f"{ctx.command_path}: {message}", err=True)
            ctx.exit(EXIT_FAILED)


class Group(click.Group):
    command_class = Command
    group_class = type  # subgroups are Groups too, their commands Commands


@click.group(cls=Group)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log at debug level, and show the traceback of any failure (as SPC_DEBUG=1 does)."
)
@click.pass_context
def cli(ctx, verbose):
    """Service Public Citoyen: register, fund, distribute and audit citizen-run public services."""
    debug = debug_asked(os.environ, verbose)
    serving = ctx.invoked_subcommand in _SERVING
    level = os.environ.get("SPC_LOG_LEVEL", "").upper() or ("INFO" if serving else "WARNING")
    try:  # text on a terminal; json (one object a line) for a log collector: docs/operations.md
        fmt = log_format(os.environ)
    except BadLogFormat as exc:
        click.echo(f"{ctx.command_path}: {exc}", err=True)
        ctx.exit(EXIT_FAILED)
    configure_logging(logging.DEBUG if debug else getattr(logging, level, logging.INFO), fmt)
    # the CLI turns every broker failure into one line: pika's own account of it is noise, and
    # so are alembic's seven INFO lines each time a database is opened
    logging.getLogger("pika").setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)
    logging.getLogger("alembic").setLevel(logging.DEBUG if debug else logging.WARNING)
    if not debug:  # refused requests are answered in JSON; their tracebacks are noise
        logging.getLogger("nameko.containers").setLevel(logging.ERROR)


def _preflight(settings, names):
    """Before any container starts: the staff tokens (none: a warning; malformed or unreadable:
    exit 2), the HTTP ports (one in use: exit 2, naming the service, the port, the variable) and
    the databases' encoding (not UTF-8: exit 2)."""
    from .preflight import check_admin_tokens, check_database_encodings, check_ports

    warning = check_admin_tokens(settings.environ)
    if warning:
        click.echo(click.style(warning, fg="yellow", bold=True), err=True)
        # said once here: each container's own log line saying it again is dropped
        for handler in logging.getLogger().handlers:
            handler.addFilter(lambda record: "no admin token configured" not in record.getMessage())
    _ = settings.lanes  # SPC_LANES: one of all, urgent, bulk (ConfigError: exit 2)
    _ = settings.nice  # SPC_NICE: 0 to 19 (ConfigError: exit 2)
    check_ports(settings, names)
    check_database_encodings(settings, names)
    if not settings.embedded:
        for uri in dict.fromkeys(settings.amqp_uri_for(name) for name in names):
            _check_broker(uri)


def _check_broker(uri):
    """A login the broker refuses is a setting to fix: exit 2 in one line. A broker not reachable
    yet is waited for (the services keep trying and are not ready meanwhile): a warning."""
    from .operations import BrokerError, BrokerRefused, connect

    try:
        connect(uri).close()
    except BrokerRefused:
        raise
    except BrokerError as exc:
        click.echo(f"WARNING: {exc}; the services will keep trying", err=True)


def _serve(settings, names):
    import eventlet
    from spc.runtime.runner import Cluster

    cluster = Cluster(settings, names).start(quiet=not _debug())
    stopping = eventlet.event.Event()

    def _stop(*_):
        if not stopping.ready():
            stopping.send(True)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    eventlet.spawn(lambda: (cluster.wait(), _stop()))
    stopping.wait()
    click.echo("stopping…")
    cluster.stop()


@cli.command()
@click.option("--no-counters", is_flag=True, help="Do not load the bundled France Services counters when distribution has none.")
def up(no_counters):
    """Run all four services in this process (embedded broker when AMQP_URI is unset).

    Embedded and with no staff tokens configured, it makes a tokens file for this machine
    (SPC_DATA_DIR/admin-tokens, one token per staff role; `spc token ROLE` prints one)."""
    from . import local

    settings = config.load()
    made = None
    if settings.embedded and not local.tokens_configured(settings.environ):
        path, made = local.ensure_local_tokens(settings.environ)
        settings.environ["SPC_ADMIN_TOKENS_FILE"] = str(path)
    _preflight(settings, config.SERVICE_NAMES)
    if settings.embedded:
        click.echo(f"AMQP_URI is not set: running embedded (in-process broker, SQLite under {local.data_dir(settings.environ)}/)")
    else:
        click.echo("running against the broker in AMQP_URI")
    if made is not None:
        path = settings.environ["SPC_ADMIN_TOKENS_FILE"]
        click.echo(
            f"staff tokens: {path} ({'made now' if made else 'made earlier'}, one per role, for this "
            f'machine only); use one as\n  curl -H "Authorization: Bearer $(spc token registrar)" '
            f"http://127.0.0.1:{settings.port('registry')}/services"
        )
    if not no_counters:
        loaded = local.load_bundled_counters(settings)
        if loaded:
            click.echo(
                f"distribution had no counters: loaded the {loaded:,} France Services counters "
                f"bundled with SPC ({local.COUNTERS.name}; --no-counters not to)"
            )
    for name in config.SERVICE_NAMES:
        click.echo(f"  {name:<13} http://127.0.0.1:{settings.port(name)}/health/ready")
    _lower_priority(settings.nice)
    _serve(settings, config.SERVICE_NAMES)


@cli.command()
@click.argument("role", type=click.Choice(["registrar", "funding_officer", "distribution_officer", "auditor", "viewer"]))
def token(role):
    """Print the token of ROLE from the tokens file (SPC_ADMIN_TOKENS_FILE, else the one `spc up`
    made under SPC_DATA_DIR), for `Authorization: Bearer ...`."""
    from . import local

    click.echo(local.token_for(os.environ, role))


@cli.command()
@click.argument("services", nargs=-1, required=True, type=click.Choice(config.SERVICE_NAMES))
@click.option(
    "--lanes",
    type=click.Choice(list(config.LANE_CHOICES)),
    default=None,
    help="the lanes this process consumes (default: SPC_LANES, else all): run a service's "
    "urgent lanes (violations, decisions, standings) in a process of their own with "
    "`--lanes urgent` beside one with `--lanes bulk` (docs/deploy.md)",
)
@click.option(
    "--nice",
    type=click.IntRange(0, config.NICE_MAX),
    default=None,
    help="run at CPU niceness N, 0 to 19, never below the one it started with (default: SPC_NICE, else 0): with "
    "`--lanes bulk`, the urgent lanes' processes on the same host take the cores first (docs/deploy.md)",
)
def run(services, lanes, nice):
    """Run the named services against the RabbitMQ in AMQP_URI."""
    if lanes is not None:
        os.environ["SPC_LANES"] = lanes
    if nice is not None:
        os.environ["SPC_NICE"] = str(nice)
    settings = config.load(allow_embedded=False)
    _preflight(settings, services)
    _lower_priority(settings.nice)
    _serve(settings, services)


def _lower_priority(nice):
    """SPC_NICE: the process's niceness raised to `nice` (never lowered: that needs privileges;
    a process started already nicer stays as it is)."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if nice > current:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
        logging.getLogger("spc").info("CPU priority lowered: nice %d (--nice or SPC_NICE)", nice)


@cli.command()
@click.argument("services", nargs=-1, type=click.Choice(config.SERVICE_NAMES))
def migrate(services):
    """Bring the services' databases to the latest schema (all services by default)."""
    settings = config.load(allow_embedded=True)
    for name in services or config.SERVICE_NAMES:
        _open_database(settings, name).close()
        click.echo(f"{name}: up to date")


@cli.command()
def demo():
    """The whole story in one command, embedded, printed step by step."""
    from .demo import run_demo

    logging.getLogger().setLevel(logging.WARNING)
    run_demo()


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--exchange", default="spc.inbound", show_default=True)
def publish(file, exchange):
    """Publish an event file to SPC as an external system does (pika, publisher confirms)."""
    from .operations import PublishError, load_event_file, publish as send
    import os

    uri = os.environ.get("AMQP_URI")
    if not uri:
        _fail("AMQP_URI is not set")
    try:
        event, raw = load_event_file(file)
        send(uri, event, raw, exchange)
    except PublishError as exc:
        _fail(str(exc))
    click.echo(f"published {event.event_type} {event.event_id} (confirmed by the broker)")


@cli.group()
def counters():
    """France Services counters."""


@counters.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option(
    "--bundled",
    is_flag=True,
    help="The France Services directory bundled with SPC (ANCT, 2024-08-01: 2,845 counters) instead of a FILE.",
)
def counters_import(file, bundled):
    """Load counters from the ANCT CSV into distribution's database, with a progress bar."""
    from tqdm import tqdm
    from spc.services.distribution.anct_csv import CsvFormatError, read_counters_file
    from .demo import import_counters_into
    from .local import COUNTERS

    if bool(file) == bundled:
        _fail("give the ANCT CSV file to import, or --bundled (not both)")
    file = file or str(COUNTERS)

    try:
        total = len(read_counters_file(file)[0])
    except CsvFormatError as exc:
        _fail(str(exc))
    settings = config.load()
    _open_database(settings, "distribution").close()  # says which, and fails before the bar
    with tqdm(total=total, unit="counter") as bar:
        done = import_counters_into(settings, file, progress=bar.update)
    click.echo(f"{done} counters imported; listings follow for active services")


@cli.group()
def dlq():
    """Dead-lettered messages."""


@dlq.command("list")
@click.option(
    "--queue", type=click.Choice(["spc.inbound.dead", "spc.events.dead"]), default="spc.inbound.dead", show_default=True
)
@click.option("--limit", default=100, show_default=True)
def dlq_list(queue, limit):
    """Show dead letters with their reason (they stay in the queue)."""
    import json
    from .operations import dlq_messages

    uri = _broker()
    for message in dlq_messages(uri, queue, limit):
        click.echo(json.dumps(message, ensure_ascii=False))


@dlq.command("replay")
@click.option(
    "--queue", type=click.Choice(["spc.inbound.dead", "spc.events.dead"]), default="spc.inbound.dead", show_default=True
)
@click.option("--limit", default=1000, show_default=True)
@click.option("--message-id", default=None, help="Replay only this message.")
@click.option(
    "--unverified",
    is_flag=True,
    help="Also replay dead letters whose origin the broker does not vouch for (trust "
    "'unverified' in `spc dlq list`: dead-lettered by the broker itself, or before "
    "SPC signed its dead letters). Read them first.",
)
def dlq_replay(queue, limit, message_id, unverified):
    """Put dead letters back on the queue that rejected them (fix the cause first: register the
    unknown service, upgrade the consumer...); a message that fails again comes back with its new
    reason. Only those the queue's own consumer dead-lettered, as the broker vouches (trust
    'verified' in `spc dlq list`); a 'forged' one is never replayed."""
    from .operations import dlq_replay as replay

    done, kept = replay(_broker(), queue, limit, message_id, unverified=unverified)
    click.echo(f"{done} messages replayed")
    if kept.get("unverified"):
        click.echo(
            f"{kept['unverified']} unverified dead letters kept: read them with `spc dlq list`, "
            "then replay them with --unverified",
            err=True,
        )
    if kept.get("forged"):
        click.echo(
            f"{kept['forged']} forged dead letters kept (written by another login than the "
            "queue's consumer, see `spc dlq list`): never replayed",
            err=True,
        )


@cli.command("reconcile")
@click.option("--wait", default=0.0, show_default=True, help="Seconds to keep re-checking while events are still in flight.")
@click.option("--token", envvar="SPC_TOKEN", help="A staff token (any role) [env SPC_TOKEN].")
def reconcile_cmd(wait, token):
    """Compare the four services' views of every service's standing; exit 1 on any disagreement.

    Reads each service's GET /standings at SPC_<SERVICE>_URL (default http://127.0.0.1:<port>)."""
    import json
    from .reconcile import SERVICES, ReconcileError, StandingsClient, reconcile

    settings = config.load(allow_embedded=True)
    urls = {
        name: settings.environ.get(f"SPC_{name.upper()}_URL", f"http://127.0.0.1:{settings.port(name)}").rstrip("/")
        for name in SERVICES
    }
    try:
        found, compared = reconcile(StandingsClient(urls, token), wait=wait)
    except (ReconcileError, OSError) as exc:
        _fail(str(exc))
    for item in found:
        click.echo(json.dumps(item, ensure_ascii=False))
    click.echo(f"{compared} services compared, {len(found)} disagreements", err=True)
    sys.exit(1 if found else 0)


@cli.command("asyncapi")
def asyncapi_cmd():
    """Print the AsyncAPI 3 document of every event, generated from the code (asyncapi.yaml)."""
    from spc.generate.asyncapi import render

    logging.getLogger().setLevel(logging.WARNING)
    click.echo(render(), nl=False)


@cli.command("openapi")
def openapi_cmd():
    """Print the OpenAPI 3.1 document of the admin HTTP APIs, generated from the code (openapi.yaml)."""
    from spc.generate.openapi import render

    logging.getLogger().setLevel(logging.WARNING)
    click.echo(render(), nl=False)


def generated():
    """{file from the repository root: its new text from its old text}: what the code writes."""
    from spc.generate import asyncapi, definitions, docs, kubernetes, openapi

    made = {
        "asyncapi.yaml": lambda old: asyncapi.render(),
        "openapi.yaml": lambda old: openapi.render(),
        "deploy/rabbitmq/definitions.json": lambda old: definitions.render(),
        "docs/integrating.md": lambda old: docs.with_examples(docs.with_outbound(docs.with_table(old))),
    }
    for path in docs.DOCS_WITH_EXAMPLES:
        made.setdefault(path, docs.with_examples)
    for path, (service, operation) in docs.example_files().items():
        made[path] = lambda old, service=service, operation=operation: docs.example_json(service, operation)
    for path, objects in kubernetes.FILES.items():
        made[path] = lambda old, objects=objects: kubernetes.render(objects)
    return made


@cli.command("generate")
@click.option(
    "--root", default=".", show_default=True, type=click.Path(file_okay=False, exists=True), help="The repository's root."
)
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file is stale.")
def generate(root, check):
    """Rewrite what is generated from the code (the event catalogue, the topology, the @api
    declarations): asyncapi.yaml, openapi.yaml, deploy/rabbitmq/definitions.json, the Kubernetes
    objects of deploy/k8s/ and the table of inbound events in docs/integrating.md."""
    from pathlib import Path

    logging.getLogger().setLevel(logging.WARNING)
    stale = []
    for name, make in generated().items():
        path = Path(root) / name
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        new = make(old)
        if new != old:
            stale.append(name)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(new, encoding="utf-8")
    for name in stale:
        click.echo(f"{'stale' if check else 'written'}: {name}")
    sys.exit(1 if check and stale else 0)


@cli.command("definitions")
@click.option(
    "--passwords-from-env",
    is_flag=True,
    help="Fill in each user's password hash from SPC_BROKER_PASSWORD_<USER> (for loading at boot).",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write here (mode 0644), not to stdout.")
@click.option("--vhost", default="spc", show_default=True, help="The vhost to put everything in.")
@click.option(
    "--load",
    "api",
    metavar="URL",
    default=None,
    help="Load them into a broker through its management API (http://user:pass@host:15672), "
    "users included, instead of printing them.",
)
def definitions_cmd(passwords_from_env, out, vhost, api):
    """Print RabbitMQ's definitions of SPC's topology and users, generated from the code
    (deploy/rabbitmq/definitions.json), or load them into a broker (--load).

    To try SPC on a local RabbitMQ in a vhost of your own (docs/integrating.md):
    SPC_BROKER_PASSWORD_EXT_INSPECTION=... spc definitions --vhost spc-try --passwords-from-env
    --load http://guest:guest@127.0.0.1:15672"""
    import json
    import os
    from spc.generate.definitions import LoadError, load, password_env, render

    logging.getLogger().setLevel(logging.WARNING)
    text = render(os.environ if passwords_from_env else None, vhost)
    if api is not None:
        try:
            load(text, api)
        except LoadError as exc:
            _fail(str(exc))
        users = json.loads(text)["users"]
        able = [u["name"] for u in users if u["password_hash"]]
        click.echo(
            f"loaded into vhost {vhost!r}: SPC's exchanges, queues, bindings and policies, and "
            f"{len(users)} users; those who may log in (a password from "
            f"SPC_BROKER_PASSWORD_<USER>): {', '.join(able) or 'none (set --passwords-from-env)'}"
        )
        if not able:
            click.echo(
                f"  e.g. {password_env('ext-inspection')}=$(openssl rand -hex 16) spc definitions "
                f"--vhost {vhost} --passwords-from-env --load ...",
                err=True,
            )
        return
    if out is None:
        click.echo(text, nl=False)
        return
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(out, 0o644)  # the broker reads it as its own user


def _server_spec(ctx, param, values):
    servers = {}
    for value in values:
        stem, _, names = value.partition("=")
        names = [n.strip() for n in names.split(",") if n.strip()]
        if not stem.isidentifier() or not names:
            raise click.BadParameter(f"{value!r}: FILE=NAME[,NAME...], e.g. rabbitmq=rabbitmq,broker.example.fr")
        servers[stem] = names
    return servers


def _owner_spec(ctx, param, values):
    owners = {}
    for value in values:
        stem, _, ids = value.partition("=")
        uid, _, gid = ids.partition(":")
        if not (uid.isdigit() and gid.isdigit()):
            raise click.BadParameter(f"{value!r}: FILE=UID:GID, e.g. rabbitmq=999:999")
        owners[stem] = (int(uid), int(gid))
    return owners


@cli.command("certificates")
@click.option(
    "--out",
    "folder",
    required=True,
    type=click.Path(file_okay=False),
    help="The folder of ca.crt, ca.key and each FILE.crt, FILE.key.",
)
@click.option(
    "--server",
    "servers",
    multiple=True,
    callback=_server_spec,
    metavar="FILE=NAME[,NAME...]",
    help="A server certificate FILE.crt for these host names (or IP addresses), and nothing else.",
)
@click.option(
    "--client",
    "clients",
    multiple=True,
    metavar="USER",
    help="A client certificate USER.crt, common name USER: the broker user's x509 login.",
)
@click.option(
    "--owner",
    "owners",
    multiple=True,
    callback=_owner_spec,
    metavar="FILE=UID:GID",
    help="Give FILE.key to this user (the server that reads it; run as root).",
)
def certificates_cmd(folder, servers, clients, owners):
    """A CA of the deployment's own and server certificates it signs, for TLS inside a compose
    deployment (deploy/compose.yaml runs it before the broker and the HTTPS proxy start).

    What is there is kept: a CA you put in the folder (ca.crt, ca.key) signs the rest, and a
    certificate with its key, naming what is asked and valid 30 days more, is left alone whoever
    issued it (your PKI's, with only its ca.crt in the folder). So running it again renews only
    what is near its end. Keys are written 0600.

    spc certificates --out deploy/certs --server rabbitmq=rabbitmq,broker.example.fr --owner rabbitmq=999:999

    spc certificates --out deploy/certs --client ext-inspection   # its x509 login to the broker"""
    from .certificates import CertificateError, make

    unknown = set(owners) - set(servers) - set(clients)
    if unknown:
        _fail(f"--owner names no --server: {', '.join(sorted(unknown))}")
    bad = [c for c in clients if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", c)]
    if bad:
        raise click.BadParameter(f"{bad[0]!r}: a broker user's name (ext-inspection)", param_hint="--client")
    try:
        done = make(folder, servers, owners, clients)
    except CertificateError as exc:
        _fail(str(exc))
    except (OSError, ValueError) as exc:
        _fail(f"cannot write the certificates in {folder}: {exc}")
    for path, what in done:
        click.echo(f"{what}: {path}")


@cli.group()
def journal():
    """The audit journal."""


@journal.command("verify")
def journal_verify():
    """Recompute the audit journal's hash chain from audit's database."""
    import json
    from spc.services.audit import handlers

    settings = config.load(allow_embedded=True)
    database = _open_database(settings, "audit", must_exist=True, announce=False)
    try:
        result = handlers.verify_journal(database.uow())
    finally:
        database.close()
    result["database"] = mask_url(settings.database_url("audit", create_dir=False))
    click.echo(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)


@cli.group()
def export():
    """Open data: SPC's records as files anyone may publish and check (docs/open-data.md,
    docs/verify-journal.md)."""


# One command per export, each reading its service's database directly (`must_exist`: an export
# never creates an empty database); what each holds and how to publish it: docs/open-data.md.
_OUT = click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="The folder to write into (made if missing; each file replaced only once complete).",
)


@export.command("registry")
@_OUT
def export_registry(out):
    """Write the services holding a pact as registry.csv, described by datapackage.json (a
    frictionless Data Package: Table Schema, licence, sources, export date). No personal data."""
    from spc.opendata import registry
    from spc.shared.core.clock import utcnow

    settings = config.load(allow_embedded=True)
    database = _open_database(settings, "registry", must_exist=True)
    try:
        count = registry.export(database.uow(), _folder(out), _output, utcnow())
    finally:
        database.close()
    click.echo(
        f"{count} services written to {_in(out, registry.CSV_NAME)}, described by {_in(out, registry.PACKAGE_NAME)}", err=True
    )


@export.command("grants")
@_OUT
def export_grants(out):
    """Write the grants in the SCDL "Subventions" format (schema 2.1.1, spc/data/schemas/) as
    subventions.csv, from funding's and the registry's databases; a grant the format cannot
    describe (its programme names no funder SIRET) is left out with a warning naming it."""
    import contextlib
    from spc.opendata import grants
    from spc.shared.core.clock import utcnow

    settings = config.load(allow_embedded=True)
    with contextlib.ExitStack() as opened:
        funding = _open_database(settings, "funding", must_exist=True)
        opened.callback(funding.close)
        registry = _open_database(settings, "registry", must_exist=True)
        opened.callback(registry.close)
        written, skipped = grants.export(
            funding.uow(),
            registry.uow(),
            _folder(out),
            _output,
            utcnow().date(),
            lambda line: click.echo(f"WARNING: {line}", err=True),
        )
    click.echo(
        f"{written} grants written to {_in(out, grants.CSV_NAME)}"
        + (f", {skipped} left out (see the warnings)" if skipped else ""),
        err=True,
    )


@export.command("journal")
@click.option(
    "--out",
    default="-",
    show_default=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write here (replaced only once complete), not to stdout.",
)
@click.option(
    "--after",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Only the entries after this seq (a checkpoint's seq you hold; verify from its hash).",
)
def export_journal(out, after):
    """Write audit's hash-chained journal as JSON Lines, one entry a line in sequence order, with
    what recomputing the chain needs (docs/verify-journal.md), up to the head when it starts."""
    from spc.services.audit.handlers import export_journal as export_entries

    settings = config.load(allow_embedded=True)
    database = _open_database(settings, "audit", must_exist=True)
    try:
        with _output(out) as f:
            count, seq, head = export_entries(database.uow(), f.write, after)
    finally:
        database.close()
    where = "stdout" if out == "-" else out
    click.echo(f"{count} journal entries written to {where}" + (f"; the last: seq {seq}, hash {head}" if count else ""), err=True)


def _broker():
    """AMQP_URI (required), said on stderr with its password masked."""
    uri = config.load(allow_embedded=False).amqp_uri
    click.echo(f"broker: {mask_url(uri)}", err=True)
    return uri


def _open_database(settings, service, must_exist=False, announce=True):
    """`service`'s database, migrated, said on stderr (`database: <url, password masked>`) unless
    `announce` is false. `must_exist`: a command that only reads fails (exit 2) on a database
    that is absent or has no schema yet, rather than creating an empty one."""
    from .database import open_database

    url = settings.database_url(service, create_dir=not must_exist)
    if announce:
        click.echo(f"database: {mask_url(url)}", err=True)
    return open_database(settings, service, url, must_exist)


def _folder(out):
    """The folder an export writes into (made if missing); one that cannot be made is said in one line."""
    from pathlib import Path
    from .errors import CliError

    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {(exc.strerror or str(exc)).lower()}") from None
    return Path(out)


def _in(folder, name):
    """`folder/name` as the operator gave the folder, for saying where a file went."""
    return os.path.join(folder, name)


def _output(path):
    """The file an export writes (stdout for `-`), replaced only once complete; one that cannot be
    written is said in one line naming it."""
    from .errors import CliError

    try:
        return click.open_file(path, "w", encoding="utf-8", atomic=path != "-")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {(exc.strerror or str(exc)).lower()}") from None


def _fail(message):
    click.echo(f"{click.get_current_context().command_path}: {message}", err=True)
    sys.exit(EXIT_FAILED)
