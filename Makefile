# The modules of this repository: the library, its examples, the pgx
# adapter (pgxtx), the OpenTelemetry instrumentation, and the tests that
# need third-party code (database drivers, other vendors' verifiers, the
# ORMs of the outbox recipes, the portal's headless browser).
MODULES := . ./examples ./integration ./interop ./browser ./otel ./pgxtx ./recipes

# How long `make fuzz` runs each fuzz target.
FUZZTIME ?= 30s

.PHONY: test vet unit unit-run quickstart fuzz interpreters chromium

## test: go vet and go test -race in every module (what .ci/run runs)
test: vet unit

vet:
	@for m in $(MODULES); do echo "go vet $$m"; (cd $$m && go vet ./...) || exit 1; done

# unit runs under a throwaway PostgreSQL server (scripts/with-postgres.sh;
# set OUTHOOK_TEST_POSTGRES_URL to use your own server instead).
unit: interpreters chromium
	@./scripts/with-postgres.sh $(MAKE) --no-print-directory unit-run

unit-run:
	@for m in $(MODULES); do echo "go test -race $$m"; (cd $$m && go test -race -count=1 ./...) || exit 1; done

## quickstart: the main job
quickstart:
	go run ./examples/quickstart

## fuzz: run every fuzz target of every module, each for FUZZTIME (make fuzz FUZZTIME=2m)
fuzz:
	@FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh $(MODULES)

# interpreters: node, python3 and php for the receiver-snippet tests
# (installed when missing).
interpreters:
	@./scripts/ensure-interpreters.sh

# chromium: headless Chromium for the portal's browser tests (browser/),
# installed when missing; under CI=true a failed install fails the build.
chromium:
	@./scripts/ensure-chromium.sh
