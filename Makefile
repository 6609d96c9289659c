# Tally. `make` alone lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SQLC_VERSION   := v1.31.1
TEMPL_VERSION  := v0.3.1100
STATICCHECK_VERSION := v0.8.2
PG := scripts/pg.sh

.PHONY: help run test generate check-generated lint db db-stop build clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

run: build ## start PostgreSQL, seed demo data, run Tally (web, workers, partner simulator) at http://localhost:8080
	@$(PG) with scripts/run.sh

test: ## start PostgreSQL, then run every test with the race detector (browser tests need chromium)
	@$(PG) with go test -race -count=1 ./...

generate: ## regenerate sqlc and templ code with the pinned tool versions
	go run github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION) generate
	go run github.com/a-h/templ/cmd/templ@$(TEMPL_VERSION) generate

check-generated: generate ## fail if the committed generated code is stale
	@git diff --exit-code -- queries views || { echo "Generated code is stale: run 'make generate' and commit."; exit 1; }
	@test -z "$$(git status --porcelain -- queries views)" || { git status --porcelain -- queries views; echo "Untracked generated files: run 'make generate' and commit."; exit 1; }

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

db: ## start this checkout's PostgreSQL and print its DATABASE_URL
	@$(PG) start

db-stop: ## stop this checkout's PostgreSQL
	@$(PG) stop

build: ## build bin/tally
	go build -o bin/tally ./cmd/tally

clean: ## remove build output (not the database)
	rm -rf bin
