// Package browser holds the portal's end-to-end tests: the webhooks page
// (package portal) served over HTTP and driven in headless Chromium with
// chromedp. It is a module of its own so the library's go.mod stays free
// of chromedp. Run with `go test ./...` here (Chromium at /usr/bin/chromium,
// installed by scripts/ensure-chromium.sh); without Chromium the tests
// skip, except under CI=true where they fail.
//
// Screenshots (light and dark) go to testdata/screenshots/, or to
// $OUTHOOK_ARTIFACTS/screenshots when that is set. OUTHOOK_UPDATE_DOCS=1
// also writes the README's docs/portal.png.
package browser
