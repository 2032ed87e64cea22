# Entry points for people and CI. The real work is in CMake and scripts/.
#   make run         install build deps, build, run ddnsd in the foreground
#   make test        install test deps, then scripts/ci-test.sh (all stages)
#   make build       configure + build build/ (Ninja, RelWithDebInfo)
#   make check-zone  [ZONE=file] [ORIGIN=name]: validate a master file
#   make bench       bench/auth-qps.sh (ddnsd vs knotd vs nsd, needs test deps)
#   make clean       remove build dirs
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)
CONFIG ?= etc/ddnsd.yaml
ZONE ?= examples/example.test.zone
# origin defaults to the file name without .zone: examples/example.test.zone -> example.test
ORIGIN ?= $(basename $(notdir $(ZONE)))
export JOBS BUILD

.PHONY: all run test build deps deps-test check-zone bench clean

all: build

deps:
	scripts/install-deps.sh build

deps-test:
	scripts/install-deps.sh test

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

run: build
	exec $(BUILD)/src/cli/ddnsd --config $(CONFIG)

test:
	scripts/install-deps.sh test
	scripts/setup-web-tests.sh
	SKIP_DEPS=1 DDNS_WEB_REQUIRED=1 scripts/ci-test.sh

check-zone: build
	@if [ -x $(BUILD)/src/cli/ddnsctl ]; then \
	  $(BUILD)/src/cli/ddnsctl check-zone $(ORIGIN) $(ZONE); \
	else \
	  $(BUILD)/src/cli/ddnsd --check-zone $(ORIGIN) $(ZONE); \
	fi

bench: deps-test build
	bench/auth-qps.sh

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-fuzz
