# Thin wrapper over scripts/ and CMake; see README.md.
BUILD_TYPE ?= Release
BUILD_DIR  ?= build/$(shell echo $(BUILD_TYPE) | tr A-Z a-z)
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local

.PHONY: all deps build test run bench install clean man-types

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@# A make under make announces every directory it enters; cmake's
	@# nested makes would print dozens of such lines around the progress.
	@MAKEFLAGS=--no-print-directory cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The CHANNEL TYPES section of courier-recv(8), written from the handlers'
# declarations (the unit test ManPage.ChannelTypesSectionIsCurrent fails
# while it is stale).
man-types: build
	@COURIER_UPDATE_MAN=1 $(BUILD_DIR)/tests/unit_tests --gtest_filter='ManPage.*' >/dev/null
	@echo "man/courier-recv.8: CHANNEL TYPES written"

run: build
	@BIN_DIR=$(BUILD_DIR)/tools sh scripts/run.sh

# Benchmarks (bench/README.md): never part of `make test`.
bench: build
	@sh scripts/install-deps.sh bench
	@python3 bench/run.py --bin-dir $(BUILD_DIR)/tools --bench-bin-dir $(BUILD_DIR)/bench $(BENCH_ARGS)

install: build
	@cmake --install $(BUILD_DIR)

clean:
	rm -rf build
