#!/usr/bin/env bash
# Makes sure headless Chromium is installed for the portal's browser tests
# (browser/, driven with chromedp). A no-op when it is; otherwise installs
# the Debian package chromium (needs root, as on CI and the development
# machines). Under CI=true this fails when Chromium cannot be installed, so
# the browser tests never pass by skipping; elsewhere it only warns and the
# tests skip with a message.
set -euo pipefail
have() {
	[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}
have && exit 0
fail() {
	echo "ensure-chromium: $*" >&2
	if [ "${CI:-}" = "true" ]; then
		exit 1
	fi
	exit 0
}
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	fail "chromium is missing; install it (apt-get install chromium) to run the browser tests"
fi
echo "ensure-chromium: installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || fail "apt-get update failed"
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null || fail "apt-get install chromium failed"
have || fail "chromium is still missing after apt-get install"
