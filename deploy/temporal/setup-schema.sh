#!/bin/sh
# Creates or upgrades Temporal's two databases (`temporal`, `temporal_visibility`) on MySQL 8
# with temporal-sql-tool, as the docker-compose files of temporalio/samples-server do.
# Run by the one-shot `temporal-schema-setup` service of docker-compose.yml, in the
# temporalio/admin-tools image (which holds the schema files under /etc/temporal/schema).
#
# Safe to run again on every `docker compose up`: the databases are created only if missing,
# `setup-schema -v 0.0` leaves a schema that is already past 0.0 alone, and `update-schema`
# applies only the versions that are not there yet.
set -eu

: "${MYSQL_SEEDS:?MYSQL_SEEDS (the MySQL host) is required}"
: "${MYSQL_USER:?MYSQL_USER is required}"
: "${SQL_PASSWORD_FILE:?SQL_PASSWORD_FILE (a file holding the password) is required}"
port=${DB_PORT:-3306}
schema_dir=/etc/temporal/schema/mysql/v8

# temporal-sql-tool reads the password from SQL_PASSWORD.
SQL_PASSWORD=$(cat "$SQL_PASSWORD_FILE")
export SQL_PASSWORD

attempt=1
until nc -z -w 5 "$MYSQL_SEEDS" "$port"; do
	if [ "$attempt" -ge 60 ]; then
		echo "MySQL at $MYSQL_SEEDS:$port did not answer after $attempt attempts" >&2
		exit 1
	fi
	attempt=$((attempt + 1))
	sleep 2
done

sqltool() {
	temporal-sql-tool --plugin mysql8 --ep "$MYSQL_SEEDS" -p "$port" -u "$MYSQL_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
	db=${pair%%:*}
	dir=${pair#*:}
	echo "schema of $db: create, set up, update"
	sqltool --db "$db" create
	sqltool --db "$db" setup-schema -v 0.0
	sqltool --db "$db" update-schema -d "$schema_dir/$dir/versioned"
done
echo "Temporal schema is up to date"
