#!/usr/bin/env bash
# Makes sure the interpreters the receiver-snippet tests run (interop/,
# docs/snippets/) are installed: node, python3 and php. A no-op when they
# are; otherwise installs the missing Debian packages (needs root, as on CI
# and the development machines). Under CI=true the snippet tests fail,
# rather than skip, when an interpreter is still missing.
set -euo pipefail
missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v php >/dev/null 2>&1 || missing+=(php-cli)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-interpreters: missing ${missing[*]}; install them to run the snippet tests" >&2
	exit 0
fi
echo "ensure-interpreters: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
