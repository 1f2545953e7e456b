# Thin wrappers over the npm scripts in package.json. `make help` lists the targets.
.DEFAULT_GOAL := help
IMG ?= ghcr.io/llm-d-incubation/workload-variant-autoscaler:latest

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: build
build: ## Compile to dist/ and write ./bin/wva and ./bin/manager
	npm run build

.PHONY: test
test: ## Run all tests (unit and integration) with coverage
	npm test

.PHONY: lint
lint: ## ESLint, Prettier check and the TypeScript type check
	npm run lint

.PHONY: fmt
fmt: ## Format the code (Prettier, ESLint --fix)
	npm run fmt

.PHONY: manifests
manifests: ## Regenerate the CRD in config/crd/bases and the Helm chart from the TypeScript API
	npm run manifests

.PHONY: bench
bench: ## Run the benchmarks and print result tables
	npm run bench
