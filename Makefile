# Thin wrappers over the npm scripts in package.json. `make help` lists the targets.
.DEFAULT_GOAL := help
# Project version (package.json); the image tag and chart appVersion carry it with a "v".
VERSION ?= $(shell node -p "require('./package.json').version")
IMAGE_REPO ?= ghcr.io/llm-d-incubation/workload-variant-autoscaler
IMG ?= $(IMAGE_REPO):v$(VERSION)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
CONTAINER_TOOL ?= docker
PLATFORMS ?= linux/amd64,linux/arm64
KUBECTL ?= kubectl
# helm: by default the one `npm run tools` extracts to .tools/bin (extracted on first use); HELM=helm picks another.
TOOLS_HELM := .tools/bin/helm
HELM ?= $(TOOLS_HELM)
HELM_DEP := $(filter $(TOOLS_HELM),$(HELM))
CHART_DIR := charts/workload-variant-autoscaler
ignore-not-found ?= false

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z0-9_-]+:.*##/ { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: build
build: ## Compile to dist/ and write ./bin/manager (./bin/wva runs the sources and needs no build)
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
manifests: ## Regenerate the CRDs, the controller RBAC (chart + config/rbac) and the CRD reference
	npm run manifests

.PHONY: bench
bench: ## Run the benchmarks and print result tables
	npm run bench

.PHONY: test-e2e
test-e2e: ## Run the end-to-end tests (test/e2e)
	npm run test:e2e

.PHONY: helm-lint
helm-lint: $(HELM_DEP) ## Lint the Helm chart with the real helm (.tools/bin/helm from `npm run tools`; HELM=... for another)
	$(HELM) lint --strict $(CHART_DIR)

.PHONY: helm-package
helm-package: $(HELM_DEP) ## Package the Helm chart into workload-variant-autoscaler-$(VERSION).tgz
	$(HELM) package $(CHART_DIR) --destination .

$(TOOLS_HELM):
	npm run tools

.PHONY: install
install: ## Apply the CRD to the current kube context
	$(KUBECTL) apply -k config/crd

.PHONY: uninstall
uninstall: ## Delete the CRD (and every VariantAutoscaling) from the current kube context
	$(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -k config/crd

.PHONY: deploy
deploy: ## Deploy config/default (CRD, RBAC, controller) to the current kube context with image IMG
	KUBECTL=$(KUBECTL) node scripts/kustomize-render.mjs config/default $(IMG) | $(KUBECTL) apply -f -

.PHONY: undeploy
undeploy: ## Delete what `make deploy` created from the current kube context
	KUBECTL=$(KUBECTL) node scripts/kustomize-render.mjs config/default $(IMG) | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: docker-build
docker-build: ## Build the controller image IMG for the local platform
	$(CONTAINER_TOOL) build --build-arg VERSION=v$(VERSION) --build-arg COMMIT=$(COMMIT) \
		--build-arg BUILD_DATE=$(BUILD_DATE) -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the image IMG
	$(CONTAINER_TOOL) push $(IMG)

.PHONY: docker-buildx
docker-buildx: ## Build and push IMG for PLATFORMS (amd64 + arm64) with docker buildx
	$(CONTAINER_TOOL) buildx build --platform=$(PLATFORMS) --build-arg VERSION=v$(VERSION) \
		--build-arg COMMIT=$(COMMIT) --build-arg BUILD_DATE=$(BUILD_DATE) --push -t $(IMG) .

.PHONY: release
release: ## Prepare a release: make release RELEASE_VERSION=vX.Y.Z[-rc.N] (bumps versions, CHANGELOG, RELEASE_NOTES.md)
	@test -n "$(RELEASE_VERSION)" || { echo "RELEASE_VERSION is required, e.g. make release RELEASE_VERSION=v0.2.0"; exit 2; }
	npm run release -- prepare $(RELEASE_VERSION)

.PHONY: release-verify
release-verify: ## Check versions agree, manifests are current and the CHANGELOG has the version's section
	npm run release -- verify
