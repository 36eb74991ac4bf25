# fengqiao — every target works on a fresh machine with Go, Node.js/npm and gcc.
GO  ?= go
# The Go patch release with the standard library's security fixes (govulncheck finds
# html/template and other flaws in go1.26.8); the go command fetches it from the
# module proxy on first use.
export GOTOOLCHAIN := go1.26.10
WEB := gateway/web
# The federation test's npm tools (docs/federation.md).
FED := tools/federation

.PHONY: demo test build assets federation-tools check race fuzz vulncheck bench clean

# Runs the demo: simulated upstreams + hub + GraphiQL, embedded index, no setup.
demo: build
	./bin/fengqiao demo

# Runs vet and every test.
test: assets federation-tools
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

build: assets
	$(GO) build -o bin/fengqiao ./cmd/fengqiao

# Front-end packages from npm, copied into the folder the binary embeds.
assets: $(WEB)/dist/graphiql.min.js

$(WEB)/dist/graphiql.min.js: $(WEB)/package.json $(WEB)/package-lock.json $(WEB)/build.mjs
	cd $(WEB) && npm ci --no-audit --no-fund && npm run build

# The composition tool and gateway the federation test runs over a live hub
# (cmd/fengqiao), from the lockfile; --prefer-offline takes what npm's cache holds,
# so a machine that has installed them once needs no registry.
federation-tools: $(FED)/node_modules/.package-lock.json

$(FED)/node_modules/.package-lock.json: $(FED)/package.json $(FED)/package-lock.json
	cd $(FED) && npm ci --prefer-offline --no-audit --no-fund

# Formatting and generated code must be current.
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) tool gqlgen generate
	@git diff --exit-code -- resolvers schema gqlgen.yml || { echo "generated GraphQL code is stale: run go tool gqlgen generate"; exit 1; }
	@test -z "$$(git status --porcelain -- resolvers)" || { echo "gqlgen generate added files:"; git status --porcelain -- resolvers; exit 1; }

# The packages with concurrency, under the race detector.
race: assets federation-tools
	$(GO) test -count=1 -timeout 30m -race ./cmd/... ./cockpit/... ./connectors/... ./gateway/... ./search/... ./tools/sim/...

# Every fuzz target, briefly (FUZZTIME each, default 10s).
fuzz:
	bash .ci/fuzz

# Known vulnerabilities in the code's call graph (docs/operations.md: air-gapped builders).
vulncheck:
	bash .ci/vulncheck

# Issue 9's table on this machine (docs/operations.md); BENCHFLAGS=-scale 1 for a year.
BENCHFLAGS ?=
bench: build
	./bin/fengqiao bench -json bin/bench.json $(BENCHFLAGS)

clean:
	rm -rf bin $(WEB)/node_modules $(FED)/node_modules
	find $(WEB)/dist -type f ! -name .keep -delete
