# The modules of this repository: the library, its examples, and the tests
# that need third-party code (database drivers, other vendors' verifiers).
MODULES := . ./examples ./integration

.PHONY: test vet unit quickstart fuzz

## test: go vet and go test -race in every module (what .ci/run runs)
test: vet unit

vet:
	@for m in $(MODULES); do echo "go vet $$m"; (cd $$m && go vet ./...) || exit 1; done

unit:
	@for m in $(MODULES); do echo "go test -race $$m"; (cd $$m && go test -race -count=1 ./...) || exit 1; done

## quickstart: the main job
quickstart:
	go run ./examples/quickstart
