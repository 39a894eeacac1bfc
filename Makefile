# aphex.platform: the two commands are `make bootstrap` and `make test`; both set everything up.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
COLLECTIONS := $(CURDIR)/.cache/collections
CLUSTER_DIR ?= $(CURDIR)/.local-cluster

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR ?= false
# Offline mirror of upstream manifests and charts (same layout as upstream/lock.yml); used when present.
APHEX_UPSTREAM_MIRROR ?= $(wildcard $(abspath $(CURDIR)/../shared/upstream))
export APHEX_UPSTREAM_MIRROR

.PHONY: help setup toolchain cluster-up cluster-down bootstrap test test-unit sanity lint test-integration \
	molecule test-kind test-k3s collection-build clean

help:
	@echo "make bootstrap    build the platform on the local cluster (or the inventory's cluster)"
	@echo "make test         unit tests, sanity, ansible-lint, integration tests and molecule scenarios"
	@echo "make cluster-up   start the local cluster; prints the kubeconfig path last"
	@echo "make cluster-down stop it"

# --- set-up ----------------------------------------------------------------------------------
$(VENV)/.installed: requirements-dev.txt requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The collection is used from the working tree through a symlinked collections path.
$(COLLECTIONS)/ansible_collections/aphex/platform:
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

# hack/kind/setup-host: the Debian packages of the kind test (docker.io, debootstrap, docker-registry, ...)
# and graphviz (module dependency graphs as PNG), installed
# as root when missing; elsewhere it only names them.
setup: $(VENV)/.installed $(COLLECTIONS)/ansible_collections/aphex/platform
	@hack/kind/setup-host

# Builds (first time, 10-25 min) or reuses the cached control-plane binaries, kubectl and helm.
toolchain: setup
	$(BIN)/python hack/local-cluster build --link $(BIN)

# --- local cluster ---------------------------------------------------------------------------
cluster-up: toolchain
	@$(BIN)/python hack/local-cluster up --dir $(CLUSTER_DIR)

cluster-down: setup
	@$(BIN)/python hack/local-cluster down --dir $(CLUSTER_DIR)

# --- the platform ----------------------------------------------------------------------------
bootstrap: toolchain
	$(BIN)/ansible-playbook -i inventories/local playbooks/bootstrap.yml $(ARGS)

# --- tests -----------------------------------------------------------------------------------
# Every stage in order (setup, toolchain, unit, sanity, lint, collection build, integration, molecule), timed;
# one shared local cluster serves integration and molecule (APHEX_TEST_KUBECONFIG) and is stopped whatever
# happens; a table of the stage times is printed at the end, also when a stage fails.
test:
	@$(PYTHON) hack/test-stages

test-unit: setup
	$(BIN)/pytest tests/unit

sanity: setup
	hack/sanity.sh

lint: setup
	$(BIN)/ansible-lint --offline

# `ansible-galaxy collection build` must give a tarball that installs offline.
collection-build: setup
	rm -rf .cache/build && mkdir -p .cache/build/collections
	$(BIN)/ansible-galaxy collection build --force --output-path .cache/build .
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.cache/build/collections \
		$(BIN)/ansible-galaxy collection install --offline -p .cache/build/collections .cache/build/aphex-platform-*.tar.gz
	test -f .cache/build/collections/ansible_collections/aphex/platform/MANIFEST.json

test-integration: toolchain
	$(BIN)/pytest tests/integration --durations=25

# Scenarios by name, so none is silently left out. onboard_org and onboard_repo need the upstream mirror: without
# it the scenario is reported as skipped, and with APHEX_REQUIRE_ALL_TESTS=1 (CI) that fails the stage.
MOLECULE_SCENARIOS := local_cluster onboard_org onboard_repo tenant_modules
molecule: toolchain
	@for scenario in $(MOLECULE_SCENARIOS); do \
	  if [ "$$scenario" != local_cluster ] && [ -z "$${APHEX_UPSTREAM_MIRROR:-}" ]; then \
	    echo "molecule $$scenario: SKIPPED: needs the offline upstream mirror (APHEX_UPSTREAM_MIRROR)"; \
	    if [ "$${APHEX_REQUIRE_ALL_TESTS:-}" = 1 ]; then exit 1; fi; continue; \
	  fi; \
	  echo "==> molecule test -s $$scenario"; start=$$(date +%s); \
	  $(BIN)/molecule test -s $$scenario; \
	  echo "molecule $$scenario passed in $$(( $$(date +%s) - start ))s"; \
	done

# The kind provider on a real kind cluster (molecule/kind), then the platform on kind (tests/e2e), inside one private
# test session: its own dockerd, the offline node image (built once, ~28 min cold, cached by version in
# ~/.cache/aphex-platform/kind) and a local registry (hack/kind/session). Stages, each timed (table at the end):
# molecule kind; the platform images (make images: built from their Go modules and Debian packages, cached by
# version, ~20 min cold, seconds warm) pushed to the session's registry (make images-push); pytest tests/e2e
# (bootstrap.yml on a kind cluster with real controllers, then the end-to-end proofs). The session is stopped and the
# host restored whatever happens. Without root or the Debian packages the stage is reported as skipped, and with
# APHEX_REQUIRE_ALL_TESTS=1 (CI) that fails it.
KIND_SESSION_DIR ?= $(CURDIR)/.cache/kind-session
test-kind: toolchain
	@if ! why=$$($(BIN)/python hack/kind/session check); then \
	  echo "molecule kind: SKIPPED: $$why"; \
	  if [ "$${APHEX_REQUIRE_ALL_TESTS:-}" = 1 ]; then exit 1; fi; exit 0; \
	fi; \
	start=$$(date +%s); rc=0; times=""; \
	stage() { times="$$times$$(printf '  %-34s %-6s %4ds' "$$1" "$$2" "$$3")\n"; }; \
	$(BIN)/python hack/kind/session stop --dir $(KIND_SESSION_DIR) >/dev/null 2>&1 || true; \
	if env_lines=$$($(BIN)/python hack/kind/session start --dir $(KIND_SESSION_DIR)); then \
	  eval "$$env_lines"; step=$$(date +%s); stage "kind session start" ok $$(( step - start )); \
	  echo "kind session (dockerd, node image, registry) ready in $$(( step - start ))s"; \
	  r=0; $(BIN)/molecule test -s kind || r=$$?; rc=$$(( rc | r )); \
	  stage "molecule kind" rc=$$r $$(( $$(date +%s) - step )); echo "molecule kind: rc=$$r in $$(( $$(date +%s) - step ))s"; \
	  step=$$(date +%s); r=0; $(MAKE) --no-print-directory images || r=$$?; rc=$$(( rc | r )); \
	  stage "platform images (build/cache)" rc=$$r $$(( $$(date +%s) - step )); \
	  if [ $$r = 0 ]; then \
	    step=$$(date +%s); r=0; \
	    $(MAKE) --no-print-directory images-push REGISTRY=127.0.0.1:$$APHEX_KIND_REGISTRY_HOST_PORT || r=$$?; \
	    rc=$$(( rc | r )); stage "platform images push" rc=$$r $$(( $$(date +%s) - step )); \
	  fi; \
	  if [ $$r = 0 ]; then \
	    step=$$(date +%s); r=0; \
	    $(BIN)/pytest tests/e2e -s -rA -p no:cacheprovider --durations=0 || r=$$?; rc=$$(( rc | r )); \
	    stage "e2e (bootstrap.yml on kind + proofs)" rc=$$r $$(( $$(date +%s) - step )); \
	  else stage "e2e (bootstrap.yml on kind + proofs)" "not run" 0; fi; \
	else rc=1; fi; \
	step=$$(date +%s); $(BIN)/python hack/kind/session stop --dir $(KIND_SESSION_DIR) || rc=$${rc/#0/1}; \
	stage "kind session stop + host restore" done $$(( $$(date +%s) - step )); \
	echo "kind session stopped, host restored in $$(( $$(date +%s) - step ))s; test-kind total $$(( $$(date +%s) - start ))s"; \
	printf "\nmake test-kind: stage times\n$$times  %-34s %-6s %4ds\n" total rc=$$rc $$(( $$(date +%s) - start )); \
	exit $$rc

clean:
	rm -rf .cache collections tests/output

# --- platform images for the e2e tests on kind (hack/images/README.md) -----------------------
# Builds Tekton, Triggers, Dex and Argo CD from their Go modules and the small Debian images; cached by version in
# ~/.cache/aphex-platform/images (about 20 min cold on 2 cores, seconds warm). images-push sends them to the kind
# session's registry (source its env.sh first, or REGISTRY=127.0.0.1:PORT).
.PHONY: images images-push
images: toolchain
	@start=$$(date +%s); $(PYTHON) hack/images/build; echo "images built in $$(( $$(date +%s) - start ))s"

images-push:
	@start=$$(date +%s); $(PYTHON) hack/images/push $(if $(REGISTRY),--registry $(REGISTRY)); \
	  echo "images pushed in $$(( $$(date +%s) - start ))s"

# k3s host preparation (molecule/k3s_single, molecule/k3s_ha) on systemd "hosts": privileged containers running
# systemd as PID 1, from a debootstrap image (hack/k3s-hosts/host-image, cached by package list in
# ~/.cache/aphex-platform/k3s-hosts: ~2.5 min cold, seconds warm), in a private dockerd of its own
# (hack/kind/session start --daemon-only, another --dir than test-kind's, so both can run at once). The session is
# stopped and the host restored whatever happens. Without root or the Debian packages the scenarios are reported as
# skipped, and with APHEX_REQUIRE_ALL_TESTS=1 (CI) that fails the stage. Not in MOLECULE_SCENARIOS (they need the session).
K3S_SESSION_DIR ?= $(CURDIR)/.cache/k3s-session
K3S_SCENARIOS := k3s_single k3s_ha
test-k3s: setup
	@if ! why=$$($(BIN)/python hack/k3s-hosts/host-image check); then \
	  echo "molecule $(K3S_SCENARIOS): SKIPPED: $$why"; \
	  if [ "$${APHEX_REQUIRE_ALL_TESTS:-}" = 1 ]; then exit 1; fi; exit 0; \
	fi; \
	start=$$(date +%s); rc=0; times=""; \
	$(BIN)/python hack/kind/session stop --dir $(K3S_SESSION_DIR) >/dev/null 2>&1 || true; \
	if env_lines=$$($(BIN)/python hack/kind/session start --daemon-only --dir $(K3S_SESSION_DIR)); then \
	  eval "$$env_lines"; step=$$(date +%s); times="session $$(( step - start ))s"; \
	  if APHEX_K3S_HOST_IMAGE=$$($(BIN)/python hack/k3s-hosts/host-image import); then \
	    export APHEX_K3S_HOST_IMAGE; times="$$times, host image $$(( $$(date +%s) - step ))s"; \
	    for scenario in $(K3S_SCENARIOS); do \
	      echo "==> molecule test -s $$scenario"; step=$$(date +%s); \
	      $(BIN)/molecule test -s $$scenario || rc=1; \
	      times="$$times, $$scenario $$(( $$(date +%s) - step ))s"; \
	    done; \
	  else rc=1; fi; \
	else rc=1; fi; \
	step=$$(date +%s); $(BIN)/python hack/kind/session stop --dir $(K3S_SESSION_DIR) || rc=1; \
	echo "test-k3s: rc=$$rc; $$times, session stop $$(( $$(date +%s) - step ))s; total $$(( $$(date +%s) - start ))s"; \
	exit $$rc
