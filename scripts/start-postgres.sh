#!/usr/bin/env bash
# Installs (Debian) and starts a local Postgres for the tests, with a role that may create
# databases (each test run makes fresh ones), and prints its URL for SIBYL_TEST_DATABASE_URL.
# Idempotent: a running cluster, an existing role or database are left as they are.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Only the URL goes to stdout, since callers read it with $(...): every other command's output goes
# to stderr (pg_ctlcluster prints "Removed stale pid file." to stdout when the image has one).
role=sibyl_test
url="postgres://$role:$role@127.0.0.1:5432/$role"

if ! command -v pg_lsclusters >/dev/null; then
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
cluster=$(pg_lsclusters --no-header | head -1)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  pg_createcluster "$version" main >&2
  cluster=$(pg_lsclusters --no-header | head -1)
fi
read -r version name port status _ <<<"$cluster"
[ "$status" = online ] || pg_ctlcluster "$version" "$name" start >&2
[ "$port" = 5432 ] || url="postgres://$role:$role@127.0.0.1:$port/$role"

psql_admin() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
for _ in $(seq 30); do psql_admin 'select 1' >/dev/null 2>&1 && break; sleep 1; done
if [ -z "$(psql_admin "select 1 from pg_roles where rolname = '$role'")" ]; then
  psql_admin "create role $role login createdb password '$role'"
fi
if [ -z "$(psql_admin "select 1 from pg_database where datname = '$role'")" ]; then
  psql_admin "create database $role owner $role"
fi
echo "$url"
