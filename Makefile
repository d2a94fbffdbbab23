# sipagent: `make run` starts the demo, `make test` runs every test.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/sipagent
GOLANGCI := github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
FUZZTIME ?= 10s

.PHONY: all build run test deps bench load lint fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sipagent

## run: build and start sipagent on the embedded default (127.0.0.1:5060, demo flow)
run: build
	./$(BIN) $(ARGS)

## deps: install the real peers the tests run against (sipp, baresip, kamailio, sipvicious, espeak-ng, sox)
deps:
	@./.ci/deps

## test: unit, fuzz-corpus and integration tests against real peers, with -race
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

## bench: Go benchmarks of the hot paths, then the sipp load script against the binary
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./testdata/load/load.sh

## load: only the sipp load script
load: build deps
	./testdata/load/load.sh

## lint: gofmt, go vet, golangci-lint
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run $(GOLANGCI) run ./...

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
