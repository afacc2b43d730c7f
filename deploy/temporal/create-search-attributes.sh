#!/bin/sh
# Makes sure the namespace exists, then registers WikiFlow's custom search attributes on it.
# Run by the one-shot `temporal-create-search-attributes` service of docker-compose.yml, in
# the temporalio/admin-tools image (which has the `temporal` CLI).
#
# Environment: TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE, SEARCH_ATTRIBUTES
# ("Name=Type Name=Type ..."). Safe to run again: what exists already is left alone.
set -eu

address=${TEMPORAL_ADDRESS:-temporal:7233}
namespace=${TEMPORAL_NAMESPACE:-default}
attributes=${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES is required, e.g. "WikiDB=Keyword"}

attempt=1
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
	if [ "$attempt" -ge 60 ]; then
		echo "Temporal at $address is not healthy after $attempt attempts" >&2
		exit 1
	fi
	attempt=$((attempt + 1))
	sleep 2
done

if temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; then
	echo "namespace $namespace exists"
else
	temporal operator namespace create --address "$address" --namespace "$namespace"
	echo "namespace $namespace created"
fi

# A freshly created namespace can take a moment to be visible to every service: retry.
for spec in $attributes; do
	name=${spec%%=*}
	type=${spec#*=}
	attempt=1
	while :; do
		if temporal operator search-attribute list --address "$address" --namespace "$namespace" 2>/dev/null |
			grep -qw -- "$name"; then
			echo "search attribute $name exists"
			break
		fi
		if temporal operator search-attribute create --address "$address" --namespace "$namespace" \
			--name "$name" --type "$type"; then
			echo "search attribute $name ($type) created"
			break
		fi
		if [ "$attempt" -ge 30 ]; then
			echo "could not create search attribute $name after $attempt attempts" >&2
			exit 1
		fi
		attempt=$((attempt + 1))
		sleep 2
	done
done
