# Thin wrapper over scripts/ and CMake; see README.md.
BUILD_TYPE ?= Release
BUILD_DIR  ?= build/$(shell echo $(BUILD_TYPE) | tr A-Z a-z)
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# Tests at two per core: many of them wait on real processes, sockets and
# timers rather than compute, and would leave a core idle. The fuzz stage
# stays at JOBS: each target fuzzes for a fixed time and must have its
# core to itself.
TEST_JOBS  ?= $(shell echo $$(( 2 * $(JOBS) )))
PREFIX     ?= /usr/local
# The Sanitize build is made with clang: its libFuzzer targets (fuzz/) come
# from the same build as the sanitized tests.
ifeq ($(BUILD_TYPE),Sanitize)
CMAKE_COMPILERS = -DCMAKE_CXX_COMPILER=clang++
endif
FUZZ_SECONDS ?= 300
# UBSan's reports with their stack; LeakSanitizer (on with ASan) with the
# suppressions for third-party code (tests/lsan.supp says why each).
SANITIZER_ENV = UBSAN_OPTIONS=print_stacktrace=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp

.PHONY: all deps build test run bench install clean man-types fuzz

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_COMPILERS) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@# A make under make announces every directory it enters; cmake's
	@# nested makes would print dozens of such lines around the progress.
	@MAKEFLAGS=--no-print-directory cmake --build $(BUILD_DIR) -j $(JOBS)

# The suite in the chosen build, then (unless that was already it) again
# in the Sanitize build under ASan, UBSan and LSan, then the fuzz stage:
# each fuzz target for its bounded time, two at a time (fuzz/README.md).
# Tests labelled release_only (tests/CMakeLists.txt says which and why)
# are left out of the Sanitize pass.
ifeq ($(BUILD_TYPE),Sanitize)
TEST_EXCLUDE = 'fuzz|release_only'
else
TEST_EXCLUDE = fuzz
endif
test: build
	@echo "== tests ($(BUILD_TYPE))"
	@cd $(BUILD_DIR) && $(SANITIZER_ENV) ctest --output-on-failure -j $(TEST_JOBS) -LE $(TEST_EXCLUDE)
ifeq ($(BUILD_TYPE),Sanitize)
	@echo "== fuzz (each target for a bounded time)"
	@cd $(BUILD_DIR) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS) -L fuzz
else
	@$(MAKE) --no-print-directory test BUILD_TYPE=Sanitize
endif

# A longer local fuzzing run of every target, FUZZ_SECONDS each (default
# 300), two at a time; what each finds stays in build/sanitize/fuzz/work.
fuzz:
	@$(MAKE) --no-print-directory build BUILD_TYPE=Sanitize
	@cd build/sanitize && $(SANITIZER_ENV) FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --output-on-failure -j $(JOBS) -L fuzz

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
