#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server:
#
#   scripts/with-postgres.sh go test ./...
#
# It starts a server on 127.0.0.1 (a free port) with its data in a
# temporary directory, creates a database, exports its URL as
# OUTHOOK_TEST_POSTGRES_URL, runs the command and stops the server and
# removes the directory afterwards, whatever happens. The command's exit
# status is the script's.
#
# If OUTHOOK_TEST_POSTGRES_URL is already set, the command runs against that
# server and nothing is started: point it at your own server to skip this.
# When PostgreSQL is not installed, the script installs it with apt-get if
# it runs as root; otherwise, with CI=true it fails, and without it runs the
# command with no server (the PostgreSQL tests then skip).
#
# Run as root, the server runs as the postgres user (PostgreSQL refuses
# root). PGBIN may name the directory holding initdb and pg_ctl.
#
# For speed the server runs with fsync, synchronous_commit and
# full_page_writes off: the tests need no durability. OUTHOOK_PG_DURABLE=1
# keeps PostgreSQL's durable defaults (all three on), as `make bench` does:
# a benchmark against a server that never flushes measures nothing real.
# OUTHOOK_PG_OPTIONS adds server options, e.g. "-c shared_buffers=1GB".
set -euo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 COMMAND [ARGS...]" >&2
	exit 2
fi

if [ -n "${OUTHOOK_TEST_POSTGRES_URL:-}" ]; then
	exec "$@"
fi

find_pgbin() {
	if [ -n "${PGBIN:-}" ] && [ -x "$PGBIN/initdb" ]; then
		echo "$PGBIN"
		return
	fi
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return
		fi
	done
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return
	fi
	if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
		pg_config --bindir
	fi
}

PGBIN="$(find_pgbin)"
if [ -z "$PGBIN" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "with-postgres: PostgreSQL not found; installing it with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	apt-get install -y -qq postgresql >&2
	PGBIN="$(find_pgbin)"
fi
if [ -z "$PGBIN" ]; then
	if [ "${CI:-}" = "true" ]; then
		echo "with-postgres: PostgreSQL (initdb, pg_ctl) not found and CI=true: failing" >&2
		exit 1
	fi
	echo "with-postgres: PostgreSQL not found; running without it (PostgreSQL tests skip)" >&2
	exec "$@"
fi

# As root, run the server's programs as postgres (PostgreSQL refuses root).
as_server() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u postgres -- "$@"
	else
		su postgres -s /bin/sh -c '"$0" "$@"' "$@"
	fi
}

dir="$(mktemp -d "${TMPDIR:-/tmp}/outhook-pg.XXXXXX")"
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$dir"
fi

cleanup() {
	as_server "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_server "$PGBIN/initdb" -D "$dir/data" -U outhook -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
	cat "$dir/initdb.log" >&2
	exit 1
}

if [ "${OUTHOOK_PG_DURABLE:-}" = "1" ]; then
	durability=""
else
	durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi

# pg_stat_statements, when installed, is preloaded with its tracking off
# (no cost to the statements); `go run ./bench` turns it on for the
# sessions whose statements it times (ALTER DATABASE ... SET
# pg_stat_statements.track).
stats=""
libdir="$("$PGBIN/pg_config" --pkglibdir 2>/dev/null || echo "$PGBIN/../lib")"
if [ -f "$libdir/pg_stat_statements.so" ]; then
	stats="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=none"
fi

# A free port: try random ones until one is closed and the server starts.
started=""
for _ in $(seq 1 20); do
	port=$((20000 + RANDOM % 30000))
	if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		continue
	fi
	if as_server "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir $durability $stats -c max_connections=300 ${OUTHOOK_PG_OPTIONS:-}" \
		start >/dev/null; then
		started=1
		break
	fi
done
if [ -z "$started" ]; then
	echo "with-postgres: the server did not start:" >&2
	cat "$dir/server.log" >&2 || true
	exit 1
fi

as_server "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U outhook outhook_test
export OUTHOOK_TEST_POSTGRES_URL="postgres://outhook@127.0.0.1:$port/outhook_test?sslmode=disable"
if [ -n "$durability" ]; then
	mode="fsync off"
else
	mode="durable: fsync and synchronous_commit on"
fi
echo "with-postgres: PostgreSQL $("$PGBIN/pg_ctl" --version | awk '{print $3}') at $OUTHOOK_TEST_POSTGRES_URL ($mode)" >&2

set +e
"$@"
status=$?
set -e
exit "$status"
