"""Integration layer: real SQLAlchemy on SQLite and on PostgreSQL (a fresh database per test),
the real RabbitMQ where the outbox relay publishes. No nameko containers here."""

import pytest

from spc.runtime.fleet import spec


@pytest.fixture
def open_database():
    """`open_database(service, url)`: that service's database, migrated, closed after the test."""
    opened = []

    def open_(service, url):
        opened.append(spec(service).open(url))
        return opened[-1]

    yield open_
    for database in opened:
        database.close()
