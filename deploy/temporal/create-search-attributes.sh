#!/bin/sh
# Makes sure the namespace exists, then registers WikiFlow's custom search attributes on it.
# Run by the one-shot `temporal-create-search-attributes` service of docker-compose.yml, in
# the temporalio/admin-tools image (which has the `temporal` CLI).
#
# Environment: TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE, TEMPORAL_NAMESPACE_RETENTION
# (how long closed histories are kept, e.g. 168h), SEARCH_ATTRIBUTES ("Name=Type Name=Type ...").
# The same namespace and attributes as `farm/bin/stack up --cluster` (setup_namespace).
# Safe to run again: what exists already is left alone.
set -eu

address=${TEMPORAL_ADDRESS:-temporal:7233}
namespace=${TEMPORAL_NAMESPACE:-default}
retention=${TEMPORAL_NAMESPACE_RETENTION:-168h}
attributes=${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES is required, e.g. "WikiDB=Keyword"}

# retry TIMES MESSAGE COMMAND...: runs COMMAND every 2 s until it succeeds; after TIMES
# failed attempts, says MESSAGE with their count and exits.
retry() {
	times=$1
	message=$2
	shift 2
	attempt=1
	until "$@"; do
		if [ "$attempt" -ge "$times" ]; then
			echo "$message after $attempt attempts" >&2
			exit 1
		fi
		attempt=$((attempt + 1))
		sleep 2
	done
}

healthy() {
	temporal operator cluster health --address "$address" >/dev/null 2>&1
}

# ensure_attribute NAME TYPE: the search attribute exists, or is created now.
ensure_attribute() {
	if temporal operator search-attribute list --address "$address" --namespace "$namespace" 2>/dev/null |
		grep -qw -- "$1"; then
		echo "search attribute $1 exists"
		return 0
	fi
	if temporal operator search-attribute create --address "$address" --namespace "$namespace" \
		--name "$1" --type "$2"; then
		echo "search attribute $1 ($2) created"
		return 0
	fi
	return 1
}

retry 60 "Temporal at $address is not healthy" healthy

if temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; then
	echo "namespace $namespace exists"
else
	temporal operator namespace create --address "$address" --namespace "$namespace" --retention "$retention"
	echo "namespace $namespace created (retention $retention)"
fi

# A freshly created namespace can take a moment to be visible to every service: retry.
for spec in $attributes; do
	name=${spec%%=*}
	type=${spec#*=}
	retry 30 "could not create search attribute $name" ensure_attribute "$name" "$type"
done
