# The two commands of the README: `make run` and `make test`. Both install what is missing
# (Debian 12 packages), configure and build first.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
# Warnings are errors in CI (CI=true), where the compiler is known.
WERROR ?= $(if $(CI),ON,OFF)
CMAKE_ARGS ?=
# What only the tests use: promtool (checks /metrics), systemd-analyze (checks the unit), yamllint
# and PyYAML (check the Kubernetes manifests), redis-server (the Redis client's tests start their
# own servers on loopback ports; never the system service), redis-sentinel (the failover tests start
# their own sentinels the same way).
TEST_PACKAGES ?= prometheus systemd yamllint python3-yaml redis-server redis-sentinel

.PHONY: all deps test-deps configure build test run clean format

all: build

deps:
	@bash deploy/install-deps.sh

test-deps:
	@EXTRA_PACKAGES="$(TEST_PACKAGES)" bash deploy/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DBRIDGE_WERROR=$(WERROR) $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

test: test-deps build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# Only what `make run` starts: the service and the simulator (the tests build with `make test`).
# REPLICAS=2 (or more) runs that many replicas on a private redis-server.
REPLICAS ?= 1
run: configure
	@$(if $(filter 1,$(REPLICAS)),true,EXTRA_PACKAGES=redis-server bash deploy/install-deps.sh)
	@cmake --build $(BUILD_DIR) -j$(JOBS) --target robofy-wa-bridge robofy-wa-simulator
	@REPLICAS=$(REPLICAS) bash deploy/run.sh $(BUILD_DIR)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)

# `make bench`: Release build in build-bench, the bridge measured against nginx (a fixed 200) with
# our load generator in the same run; a table on stdout and build-bench/bench.json (BENCHMARKS.md).
BENCH_PACKAGES ?= nginx-light openssl valgrind python3 wrk redis-server
.PHONY: bench
bench:
	@EXTRA_PACKAGES="$(BENCH_PACKAGES)" bash deploy/install-deps.sh
	@JOBS=$(JOBS) bash tests/tools/bench/run.sh
