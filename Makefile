# switchyard: a fresh machine needs only `make run` and `make test`.

GO        ?= go
BIN       := $(CURDIR)/bin
SWITCHYARD:= $(BIN)/switchyard
H2SPEC    := $(BIN)/h2spec
H2SPEC_VERSION := v2.2.1+incompatible
# nats-server: the rooms-across-nodes tests (server/topics/natstopics, cmd/switchyard) run it.
NATS_SERVER := $(BIN)/nats-server
NATS_SERVER_VERSION := v2.15.3
FUZZTIME  ?= 8s
ADDR      ?= :8080

export PATH := $(BIN):$(PATH)

.PHONY: all build run test check vet fmt-check unit race allocs fuzz fuzz-brief bench tools apt-tools peers-test clean
.PHONY: bench-suite bench-paced bench-peers bench-tools
.PHONY: soak

all: build

build:
	$(GO) build -o $(SWITCHYARD) ./cmd/switchyard

run: build
	$(SWITCHYARD) serve -addr $(ADDR)

## test: everything CI runs — formatting, vet, unit and integration tests with -race,
## interop with curl, nghttp, openssl, Python websockets and headless Chromium, Python h2 and
## Node's http2 for WebSocket over HTTP/2 (RFC 8441), h2spec,
## and each fuzz target briefly.
test: tools fmt-check vet race allocs peers-test fuzz-brief
	@echo "make test: all passed"

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd bench/peers && $(GO) vet ./...

race: build
	SWITCHYARD_BIN=$(SWITCHYARD) $(GO) test -race -count=1 -timeout 10m ./...

## allocs: the allocation budgets (testing.AllocsPerRun) once more without the race
## detector, under which sync.Pool drops items on purpose and the pooled cases skip.
allocs:
	$(GO) test -count=1 -run 'Alloc' ./...

peers-test:
	cd bench/peers && $(GO) test -count=1 -timeout 5m ./...

## fuzz-brief: run every Fuzz target for $(FUZZTIME) (make fuzz FUZZTIME=5m for longer).
## Go 1.26's fuzz coordinator can fail a run at the end of -fuzztime with a bare "context
## deadline exceeded" and no failing input (golang/go#75804, fixed in Go 1.27): such a
## run, and only such a run, is tried again, twice at most. A real finding always writes
## "Failing input written to" first, and fails at once.
fuzz-brief:
	@set -e; log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    for try in 1 2 3; do \
	      echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	      if $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg > $$log 2>&1; then break; fi; \
	      if [ $$try -lt 3 ] && grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written to' $$log; then \
	        echo "  the Go 1.26 coordinator's end-of-run race (golang/go#75804), no failing input: again"; continue; \
	      fi; \
	      cat $$log; exit 1; \
	    done; \
	  done; \
	done

fuzz:
	$(MAKE) fuzz-brief FUZZTIME=$(or $(FUZZLONG),2m)

## soak: the soak and fault test (server/soak) for 2 minutes; `make test` runs it briefly.
soak:
	$(GO) test -v -run TestSoak -count=1 -timeout 5m ./server/soak -soak.duration=2m

## bench: Go benchmarks of the hot paths, then the comparison suite (bench-suite).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd bench/peers && $(GO) test -run '^$$' -bench . -benchmem ./...
	$(MAKE) bench-suite

PEER := $(BIN)/peer
BENCHFLAGS ?=

## bench-suite: switchyard against its peers, alternating, medians of 3 rounds, the paced
## scenarios of issue 15 included (~21 minutes in all); writes
## bench/results/YYYY-MM-DD-HHMM/{report.md,results.json,chart.svg}.
## `make bench-suite BENCHFLAGS="-quick -rounds 1"` tries it in a minute.
bench-suite: build bench-peers bench-tools
	$(SWITCHYARD) bench -out bench/results $(BENCHFLAGS)

## bench-paced: only issue 15's part (the saturated echo the half rate comes from, paced, idle).
bench-paced: build bench-peers bench-tools
	$(SWITCHYARD) bench -out bench/results -scenarios ws-echo-64B-c10000,ws-paced,ws-idle,h1-paced,h2-paced $(BENCHFLAGS)

bench-peers:
	cd bench/peers && $(GO) build -o $(PEER) ./cmd/peer

## bench-tools: wrk (h1), h2load (h2) and nghttpd (the HTTP/2 peer) from Debian, and
## nats-server (ws-broadcast-2nodes) into bin/.
bench-tools: $(NATS_SERVER)
	@missing=""; \
	for t in wrk h2load nghttpd; do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nghttp2-client nghttp2-server >/dev/null; \
	fi; \
	for t in wrk h2load nghttpd; do command -v $$t >/dev/null 2>&1 || { echo "missing tool: $$t (apt-get install wrk nghttp2-client nghttp2-server)"; exit 1; }; done

## tools: what the tests need beyond Go. A tool that cannot be installed fails the build.
tools: apt-tools $(H2SPEC) $(NATS_SERVER)

## apt-tools: the Debian packages of the interop tests, as command:package. Python's
## websockets and h2 are checked for /usr/bin/python3, the Python Debian's python3-websockets
## and python3-h2 are for.
APT_TOOLS := curl:curl nghttp:nghttp2-client h2load:nghttp2-client openssl:openssl chromium:chromium node:nodejs
DEBIAN_PYTHON := /usr/bin/python3

apt-tools:
	@missing=""; \
	for tp in $(APT_TOOLS); do command -v $${tp%%:*} >/dev/null 2>&1 || missing="$$missing $${tp#*:}"; done; \
	$(DEBIAN_PYTHON) -c 'import websockets' >/dev/null 2>&1 || missing="$$missing python3-websockets"; \
	$(DEBIAN_PYTHON) -c 'import h2.connection' >/dev/null 2>&1 || missing="$$missing python3-h2"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi; \
	for tp in $(APT_TOOLS); do command -v $${tp%%:*} >/dev/null 2>&1 || { echo "missing tool: $${tp%%:*} (apt-get install $${tp#*:})"; exit 1; }; done; \
	$(DEBIAN_PYTHON) -c 'import websockets' || { echo "missing: websockets for $(DEBIAN_PYTHON) (apt-get install python3-websockets)"; exit 1; }; \
	$(DEBIAN_PYTHON) -c 'import h2.connection' || { echo "missing: h2 for $(DEBIAN_PYTHON) (apt-get install python3-h2)"; exit 1; }; \
	curl --version | grep -q HTTP2 || { echo "curl lacks HTTP/2 support"; exit 1; }

$(H2SPEC):
	GOBIN=$(BIN) $(GO) install github.com/summerwind/h2spec/cmd/h2spec@$(H2SPEC_VERSION)

$(NATS_SERVER):
	GOBIN=$(BIN) $(GO) install github.com/nats-io/nats-server/v2@$(NATS_SERVER_VERSION)

clean:
	rm -rf $(BIN)
