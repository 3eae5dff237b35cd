#!/bin/sh
# The server runs as the rabbitmq user, owner of its data (a fresh volume starts root-owned).
set -e
if [ "$(id -u)" = 0 ]; then
  chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
  exec gosu rabbitmq "$@"
fi
exec "$@"
