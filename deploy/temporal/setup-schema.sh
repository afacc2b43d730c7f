#!/bin/sh
# Creates or upgrades Temporal's two databases on PostgreSQL with the server's SQL tool and its
# postgres12 plugin, the steps `farm/bin/stack up --cluster` takes (setup_temporal_databases):
#   temporal             persistence (history, tasks, namespaces)   schema postgresql/v12/temporal
#   temporal_visibility  advanced visibility (search attributes)    schema postgresql/v12/visibility
# Run by the one-shot `temporal-schema-setup` service of docker-compose.yml, in the
# temporalio/admin-tools image (same version as the server: the tool carries the schemas it
# applies, embedded, so the schema names below need no files).
#
# Environment: SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER (read by temporal-sql-tool itself) and
# SQL_PASSWORD_FILE (a file holding the password; the tool reads SQL_PASSWORD).
#
# Safe to run again on every `docker compose up`: a database that exists is kept (PostgreSQL
# has no CREATE DATABASE IF NOT EXISTS, so "already exists" counts as done), `setup-schema -v
# 0.0` leaves a schema that is already past 0.0 alone, and `update-schema` applies only the
# versions that are not there yet.
set -eu

: "${SQL_PLUGIN:?SQL_PLUGIN (postgres12) is required}"
: "${SQL_HOST:?SQL_HOST (the PostgreSQL host) is required}"
: "${SQL_USER:?SQL_USER is required}"
: "${SQL_PASSWORD_FILE:?SQL_PASSWORD_FILE (a file holding the password) is required}"
SQL_PASSWORD=$(cat "$SQL_PASSWORD_FILE")
export SQL_PASSWORD

# create_database DB: creates DB unless it exists. Retries while PostgreSQL is not reachable yet
# (depends_on waits for its healthcheck, but a restart of the database can still race this).
create_database() {
	attempt=1
	while :; do
		if out=$(temporal-sql-tool --db "$1" create-database 2>&1); then
			echo "database $1 created"
			return 0
		fi
		case $out in
		*"already exists"*)
			echo "database $1 exists"
			return 0
			;;
		esac
		if [ "$attempt" -ge 30 ]; then
			printf '%s\n' "$out" >&2
			echo "could not create database $1 on $SQL_HOST after $attempt attempts" >&2
			exit 1
		fi
		attempt=$((attempt + 1))
		sleep 2
	done
}

for pair in temporal:postgresql/v12/temporal temporal_visibility:postgresql/v12/visibility; do
	db=${pair%%:*}
	schema=${pair#*:}
	create_database "$db"
	temporal-sql-tool --db "$db" setup-schema -v 0.0
	temporal-sql-tool --db "$db" update-schema --schema-name "$schema"
	echo "schema of $db ($schema) is up to date"
done
