"""Integration layer: real SQLAlchemy on SQLite and on PostgreSQL (a fresh database per test),
the real RabbitMQ where the outbox relay publishes. No nameko containers here."""
