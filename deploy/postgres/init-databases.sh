#!/bin/sh
# One database and one least-privileged role per service: each role owns its own database
# (migrations need that), may connect to no other, and has no other right. The databases are UTF-8
# whatever the server's default (a server made under the POSIX locale defaults to SQL_ASCII). Run once, by the
# postgres image at its first start (/docker-entrypoint-initdb.d), with the passwords of .env.
# SPC_DB_SUFFIX (default none) is appended to each role and database name: for several SPC
# instances on one server (and for tests/e2e/test_compose.py).
set -eu
suffix="${SPC_DB_SUFFIX:-}"
locale="${SPC_DB_LOCALE:-C.UTF-8}"   # a UTF-8 locale the server has (C.UTF-8 is in every Debian-based image)
for service in registry funding distribution audit; do
  var="SPC_DB_PASSWORD_$(echo "$service" | tr '[:lower:]' '[:upper:]')"
  password="$(printenv "$var" || true)"
  if [ -z "$password" ]; then
    echo "init-databases: $var is not set (deploy/.env)" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 -v locale="$locale" -v role="spc_$service$suffix" -v db="$service$suffix" -v pw="$password" \
       --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE :"db" OWNER :"role" ENCODING 'UTF8' TEMPLATE template0 LOCALE :'locale';
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
done
