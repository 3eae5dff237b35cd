"""The click command tree behind `spc`."""
import logging
import signal
import sys

import click

from . import config


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def cli(verbose):
    """Service Public Citoyen: register, fund, distribute and audit citizen-run public services."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:  # refused requests are answered in JSON; their tracebacks are noise
        logging.getLogger("nameko.containers").setLevel(logging.ERROR)


def _serve(settings, names):
    import eventlet
    from .runner import Cluster

    cluster = Cluster(settings, names).start()
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
def up():
    """Run all four services in this process (embedded broker when AMQP_URI is unset)."""
    settings = config.load()
    if settings.embedded:
        click.echo("AMQP_URI is not set: running embedded (in-process broker, SQLite under "
                   f"{settings.environ.get('SPC_DATA_DIR', 'var')}/)")
    else:
        click.echo(f"running against the broker in AMQP_URI")
    for name in config.SERVICE_NAMES:
        click.echo(f"  {name:<13} http://127.0.0.1:{settings.port(name)}/health/ready")
    _serve(settings, config.SERVICE_NAMES)


@cli.command()
@click.argument("services", nargs=-1, required=True,
                type=click.Choice(config.SERVICE_NAMES))
def run(services):
    """Run the named services against the RabbitMQ in AMQP_URI."""
    settings = config.load(allow_embedded=False)
    _serve(settings, services)


@cli.command()
@click.argument("services", nargs=-1, type=click.Choice(config.SERVICE_NAMES))
def migrate(services):
    """Bring the services' databases to the latest schema (all services by default)."""
    from spc.shared.migrations import upgrade
    from spc.shared.persistence import database_url, make_engine
    from .runner import service_class
    from pathlib import Path
    import importlib

    for name in services or config.SERVICE_NAMES:
        module = importlib.import_module(service_class(name).__module__)
        engine = make_engine(database_url(name))
        upgrade(engine, name, Path(module.__file__).parent / "migrations")
        click.echo(f"{name}: up to date")


@cli.command()
def demo():
    """The whole story in one command, embedded, printed step by step."""
    from .demo import run_demo
    logging.getLogger().setLevel(logging.WARNING)
    run_demo()


def _fail(message):
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
