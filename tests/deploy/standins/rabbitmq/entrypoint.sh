#!/bin/sh
# The server runs as the rabbitmq user, owner of its data (a fresh volume starts root-owned), in
# the foreground with its log on the console and SIGTERM stopping it cleanly: Debian's
# /usr/sbin/rabbitmq-server wrapper would send the log to a file and ignore SIGTERM, so the
# script it wraps is run instead.
set -e
cd /var/lib/rabbitmq
if [ "$1" = rabbitmq-server ]; then
  shift
  set -- /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
fi
if [ "$(id -u)" = 0 ]; then
  chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
  exec gosu rabbitmq "$@"
fi
exec "$@"
