# The modules of this repository: the library, its examples, the pgx
# adapter (pgxtx), the OpenTelemetry instrumentation, and the tests that
# need third-party code (database drivers, other vendors' verifiers, the
# ORMs of the outbox recipes, the portal's headless browser).
MODULES := . ./examples ./integration ./interop ./browser ./otel ./pgxtx ./recipes

# The benchmark harness (bench/) is a module of its own, so River and the
# drivers stay out of the library's go.mod. `make vet` compiles it; `make
# test` runs none of it (make bench does).
VET_MODULES := $(MODULES) ./bench

# How long `make fuzz` runs each fuzz target.
FUZZTIME ?= 30s

.PHONY: test vet unit unit-run quickstart fuzz interpreters chromium bench bench-quick

## test: go vet and go test -race in every module (what .ci/run runs)
test: vet unit

vet:
	@for m in $(VET_MODULES); do echo "go vet $$m"; (cd $$m && go vet ./...) || exit 1; done

# unit runs under a throwaway PostgreSQL server (scripts/with-postgres.sh;
# set OUTHOOK_TEST_POSTGRES_URL to use your own server instead).
unit: interpreters chromium
	@./scripts/with-postgres.sh $(MAKE) --no-print-directory unit-run

unit-run:
	@for m in $(MODULES); do echo "go test -race $$m"; (cd $$m && go test -race -count=1 ./...) || exit 1; done

## bench: outhook against River, raw net/http and plain SQL loops on a throwaway
## durable PostgreSQL (fsync and synchronous_commit on); writes BENCHMARKS.md
## and bench/ratios.svg. Full mode: 3 runs of each, 15 minutes or more on 2 cores.
bench:
	@env -u OUTHOOK_TEST_POSTGRES_URL OUTHOOK_PG_DURABLE=1 OUTHOOK_BENCH_COMMAND="make bench" \
		./scripts/with-postgres.sh go run ./bench -out BENCHMARKS.md

## bench-quick: the same, each measurement once and smaller (under 4 minutes)
bench-quick:
	@env -u OUTHOOK_TEST_POSTGRES_URL OUTHOOK_PG_DURABLE=1 OUTHOOK_BENCH_COMMAND="make bench-quick" \
		./scripts/with-postgres.sh go run ./bench -quick -out BENCHMARKS.md

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
