# Tally. `make` alone lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SQLC_VERSION   := v1.31.1
TEMPL_VERSION  := v0.3.1100
GOLANGCI_LINT_VERSION := v2.15.0
PG := scripts/pg.sh

TEMPL := go run github.com/a-h/templ/cmd/templ@$(TEMPL_VERSION)
GOLANGCI_LINT := go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

.PHONY: help run test fuzz bench generate check-generated lint check-templ-fmt check-tidy fmt db db-stop build clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

run: build ## start PostgreSQL, seed demo data, run Tally (web, workers, partner simulator) at http://localhost:8080
	@$(PG) with scripts/run.sh

test: ## start PostgreSQL, then run every test with the race detector (browser tests need chromium)
	@$(PG) with go test -race -count=1 ./...

FUZZTIME ?= 10s
fuzz: ## run every fuzz target for FUZZTIME each (default 10s); failures land in testdata/fuzz, to keep
	@$(PG) with bash -c 'for pkg in $$(go list ./...); do \
		for f in $$(go test -list "^Fuzz" $$pkg | grep "^Fuzz"); do \
			echo "fuzz $$pkg $$f"; go test -run XXX -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg >/dev/null || { go test -run "^$$f$$" $$pkg; exit 1; }; \
		done; done'

# Not a test: it prints each DESIGN §10 figure beside its reference, and writes JSON
# (bench/results/, or BENCH_OUT). BENCH_ONLY=approve,reserve,jobs,pages,rss runs some groups.
bench: ## start PostgreSQL, its own Tally and 1M rows; print every §10 figure beside its reference (QUICK=1: <2 min)
	@$(PG) with env QUICK=$(QUICK) go run ./cmd/bench

generate: ## regenerate sqlc and templ code with the pinned tool versions
	go run github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION) generate
	$(TEMPL) generate

check-generated: generate ## fail if the committed generated code is stale
	@git diff --exit-code -- queries views || { echo "Generated code is stale: run 'make generate' and commit."; exit 1; }
	@test -z "$$(git status --porcelain -- queries views)" || { git status --porcelain -- queries views; echo "Untracked generated files: run 'make generate' and commit."; exit 1; }

lint: check-templ-fmt check-tidy ## check-templ-fmt, check-tidy, then gofmt, go vet and golangci-lint (.golangci.yml)
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt needed (run 'make fmt'):"; echo "$$out"; exit 1; }
	go vet ./...
	$(GOLANGCI_LINT) run ./...

# templ fmt -fail rewrites the files it fails on, so compare its stdin output instead.
check-templ-fmt: ## fail if a .templ file is not formatted as `templ fmt` would (rewrites nothing)
	@tmp=$$(mktemp); trap 'rm -f "$$tmp"' EXIT; bad=; \
	for f in $$(git ls-files '*.templ'); do \
		$(TEMPL) fmt -stdin-filepath "$$f" < "$$f" > "$$tmp" || exit 1; \
		cmp -s "$$tmp" "$$f" || bad="$$bad $$f"; \
	done; \
	test -z "$$bad" || { echo "templ fmt needed (run 'make fmt', then 'make generate'):$$bad"; exit 1; }

check-tidy: ## fail if `go mod tidy` would change go.mod or go.sum
	@go mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit."; exit 1; }

fmt: ## rewrite Go (gofmt, goimports) and .templ files in place
	$(GOLANGCI_LINT) fmt ./...
	$(TEMPL) fmt .

db: ## start this checkout's PostgreSQL and print its DATABASE_URL
	@$(PG) start

db-stop: ## stop this checkout's PostgreSQL
	@$(PG) stop

build: ## build bin/tally
	go build -o bin/tally ./cmd/tally

clean: ## remove build output (not the database)
	rm -rf bin
