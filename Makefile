# metalkit.baremetal: Ansible modules as static Go binaries.
SHELL := /bin/bash
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
MODULES := $(notdir $(wildcard modules/*))
BUILD := build
COLLECTION_DIR := $(BUILD)/collection/ansible_collections/metalkit/baremetal
TARBALL := $(BUILD)/metalkit-baremetal-$(VERSION).tar.gz
# ansible-test versions the shipped sanity ignore file is written for (one
# list: the same entries hold for each).
SANITY_VERSIONS := 2.14 2.15 2.16 2.17 2.18 2.19
GO_BUILD := CGO_ENABLED=0 go build -trimpath -ldflags='-s -w'
# Which local OpenStack services `make services-up` starts (all, or e.g. ironic,glance).
SERVICES ?= all
# Which OpenStack release they are: zed (Debian 12's packages) or 2025.1 (Debian 13's, in a cached
# debootstrapped root: tests/services/root.sh). One release runs at a time; each keeps its own state.
export RELEASE ?= zed
export SERVICES_DIR ?= $(CURDIR)/$(BUILD)/services
# Which ansible-core runs the playbooks: 2.14 (Debian 12's) or 2.19 (Debian 13's, unpacked under
# build/ansible-2.19 by tests/ansible-lane.sh and put first on PATH).
export ANSIBLE ?= 2.14
ifeq ($(ANSIBLE),2.19)
export METALKIT_ANSIBLE_BIN := $(CURDIR)/$(BUILD)/ansible-2.19/bin
export PATH := $(METALKIT_ANSIBLE_BIN):$(PATH)
endif


.PHONY: quality
.PHONY: all deps build docs collection install test unit integration chaos lint bench demo demo-cold demo-clean sanity ansible-lint molecule services-up services-down clean ansible-lane lane-2025.1 root-2025.1-bg

all: build

## build: one static binary per module under build/bin/
build:
	@mkdir -p $(BUILD)/bin
	@for m in $(MODULES); do $(GO_BUILD) -o $(BUILD)/bin/$$m ./modules/$$m || exit 1; done

## docs: regenerate the sidecar docs (collection/plugins/modules/NAME.yml) from the Go specs
docs: build
	@for m in $(MODULES); do $(BUILD)/bin/$$m --metalkit-docs > collection/plugins/modules/$$m.yml || exit 1; done

## collection: build/metalkit-baremetal-VERSION.tar.gz, installable with ansible-galaxy
# Layout: the binaries are modules-linux-amd64/NAME, and plugins/modules/NAME
# is a relative link to one. Running a module resolves the link (the loader
# takes an exact file name); `ansible-doc -l` skips links, so it never reads
# a binary as text (ansible-core 2.14-2.18 warn "utf-8 codec can't decode"
# and drop the module). It lists NAME by the code-free NAME.py written here
# and takes the short description from the sidecar NAME.yml. (Not bin/:
# ansible-test takes every file there for a Python script.)
collection: deps build
	@rm -rf $(BUILD)/collection $(BUILD)/metalkit-baremetal-*.tar.gz && mkdir -p $(COLLECTION_DIR)/plugins/modules $(COLLECTION_DIR)/modules-linux-amd64
	@cp galaxy.yml LICENSE $(COLLECTION_DIR)/
	@cp -r collection/. $(COLLECTION_DIR)/
	@cp -r changelogs $(COLLECTION_DIR)/
	@go run ./tools/changelog -version $(VERSION) -changelogs changelogs -docs collection/plugins/modules -o $(COLLECTION_DIR)/CHANGELOG.rst
	@for m in $(MODULES); do \
		cp $(BUILD)/bin/$$m $(COLLECTION_DIR)/modules-linux-amd64/$$m && ln -s ../../modules-linux-amd64/$$m $(COLLECTION_DIR)/plugins/modules/$$m && \
		printf '%s\n' "# metalkit.baremetal.$$m is a static linux/amd64 binary: modules-linux-amd64/$$m, linked" \
			"# from plugins/modules/$$m. Its documentation is $$m.yml beside this file." \
			"# No code here: ansible-doc -l lists a module by a text file of its name." \
			> $(COLLECTION_DIR)/plugins/modules/$$m.py || exit 1; done
	@mkdir -p $(COLLECTION_DIR)/tests/sanity && for v in $(SANITY_VERSIONS); do cp tests/sanity/ignore.txt $(COLLECTION_DIR)/tests/sanity/ignore-$$v.txt; done
	@cd $(BUILD) && ansible-galaxy collection build --force collection/ansible_collections/metalkit/baremetal >/dev/null
	@echo "built $(TARBALL)"

## install: install the built collection into ~/.ansible/collections
install: collection
	ansible-galaxy collection install --force $(TARBALL)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...
	go vet -tags integration ./...

## unit: Go unit tests (the oracle test needs Debian's ansible-core)
unit:
	go test ./...

## integration: real services on loopback + real ansible-playbook
# The internal packages that hold integration tests (a //go:build integration file): the others' tests are
# `make unit`'s, and running them again here would only take CPU from the services. GOTESTFLAGS: e.g. -v.
INTEGRATION_PKGS = $(sort $(patsubst %/,./%,$(dir $(shell grep -rl --include='*_test.go' '^//go:build integration' internal))))
integration: collection services-up ansible-lane
	go test -tags integration -count=1 -timeout 60m $(GOTESTFLAGS) -skip '^TestChaos' ./tests/integration/... $(INTEGRATION_PKGS)

## chaos: the fault matrix (tests/integration/chaos_test.go), alone: it kills and restarts the services
chaos: collection services-up ansible-lane
	@rm -f $(BUILD)/chaos/matrix.tsv
	go test -tags integration -count=1 -timeout 40m -run '^TestChaos' -v ./tests/integration/

## sanity: ansible-test sanity on the built collection, offline (venvs from Debian packages)
sanity: collection
	@tests/sanity/run.sh

## ansible-lint: ansible-lint (Debian) on playbooks/ and the molecule scenario
ansible-lint: collection
	@tests/lint.sh

## molecule: the molecule scenario (extensions/molecule/default) with plain ansible-playbook
molecule: collection services-up ansible-lane
	@tests/molecule-lite

## deps: Debian packages the tests need (ansible, qemu-utils, the openstack CLI for benchmarks)
deps:
	@tests/deps.sh

## test: everything CI runs: the Zed + ansible-core 2.14 lane (integration, fault matrix, quality, demo), then
## the 2025.1 + ansible-core 2.19 lane (lane-2025.1); either lane failing to start fails the run
test: deps root-2025.1-bg lint unit integration chaos quality demo lane-2025.1

## ansible-lane: the ansible-core of $(ANSIBLE) on PATH, checked (a lane that cannot start fails the run)
ansible-lane:
ifeq ($(ANSIBLE),2.19)
	@tests/ansible-lane.sh
endif
	@v=$$(ansible-playbook --version | sed -n '1s/.*\[core \(.*\)\]/\1/p'); case $$v in $(ANSIBLE).*) echo "ansible-core $$v: $$(command -v ansible-playbook)";; *) echo "ansible-playbook is core '$$v', not $(ANSIBLE)" >&2; exit 1;; esac

## root-2025.1-bg: start building the 2025.1 lane's Debian 13 root in the background (make test: while the Zed
## lane runs; lane-2025.1 waits for it and fails if it failed)
root-2025.1-bg: deps
	@tests/services/root.sh build-bg

## lane-2025.1: the integration suite, the fault matrix, the molecule scenario and the demo on OpenStack
## 2025.1 (Debian 13's packages) with ansible-core 2.19; the Zed services are stopped first, the lane's after
lane-2025.1:
	@tests/services/down.sh
	@tests/services/root.sh wait-bg
	$(MAKE) RELEASE=2025.1 ANSIBLE=2.19 integration chaos molecule demo
	@tests/services/down.sh

## quality: ansible-test sanity, ansible-lint, the molecule scenario
quality: sanity ansible-lint molecule

services-up:
	@tests/services/up.sh $(SERVICES)

services-down:
	@tests/services/down.sh

bench: collection
	@tests/bench/run.sh

## demo: local services + the whole flow (playbooks/site.yml) twice, on loopback
demo: collection ansible-lane
	@tests/demo.sh

## demo-cold: time `make demo` on a fresh debootstrapped Debian 12 (root; local services stopped)
demo-cold:
	@tests/demo-cold.sh

demo-clean:
	@tests/demo-clean.sh

clean:
	rm -rf $(BUILD)/bin $(BUILD)/collection $(BUILD)/*.tar.gz
