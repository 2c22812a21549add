#!/usr/bin/env bash
# Runs every fuzz target (func FuzzXxx in a _test.go file) of the given
# modules, one after another, each for $FUZZTIME (default 30s).
# `make fuzz FUZZTIME=2m` is the usual way in. A failing input is written
# to the package's testdata/fuzz/<Target>/ and then runs with `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
[ $# -gt 0 ] || set -- .
for m in "$@"; do
	for pkg in $(cd "$m" && go list ./...); do
		targets=$(cd "$m" && go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
		for target in $targets; do
			echo "== $pkg $target ($FUZZTIME)"
			(cd "$m" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg")
		done
	done
done
