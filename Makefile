# A thin wrapper over CMake: Debian 12 has no `just`. Raw CMake works the same:
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHT_IO_URING=ON && cmake --build build
#
#   make run     install what is missing, build ht (Release), serve examples/public on :3000
#   make test    install what is missing, build Debug + ASan/UBSan for every
#                backend this machine runs (io_uring, epoll), run all tests,
#                a Release -Werror build of everything (built, not run),
#                then a short, seeded (reproducible) run of every fuzz target,
#                the Windows build under wine64 (test-windows), tsan, valgrind, lint
#   make fuzz    a longer fuzzing campaign (FUZZ_SECONDS per target, default 300)
#   make bench   install the benchmark peers too, build -O3, run bench/
#   make tsan / valgrind / lint   hardening checks (all three also run in
#                make test): ThreadSanitizer on the multi-thread suites,
#                valgrind on the examples' graceful shutdown, clang-tidy and
#                cppcheck with the checked-in configs
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build

# Debian packages: to build and test / to benchmark against the peers.
# examples/microservice needs jansson (request bodies) and libpq (--db); its
# end-to-end test starts a PostgreSQL server of its own (postgresql). ht's
# socket-activation test runs systemd-socket-activate and systemd-analyze (systemd).
# tests/files/haproxy_e2e.sh puts ht behind a real load balancer (haproxy, wrk);
# tests/files/ht_metrics.sh checks ht --metrics with promtool (prometheus).
# tests/cxx compiles the public headers as C++ with g++ and clang++ (clang is
# in FUZZ_PKGS, which make test installs too); tests/cli formats the man
# pages with groff (groff-base). The routes.ht TextMate grammar's test runs
# vscode-textmate from npm (nodejs, and npm where the npm command is missing:
# a NodeSource nodejs has it built in and conflicts with Debian's npm); the
# Vim syntax file's, vim if present.
PKGS       := cmake make gcc re2c gperf zlib1g-dev check pkg-config python3 python3-h11 curl \
              libjansson-dev libpq-dev postgresql systemd haproxy wrk prometheus g++ groff-base \
              nodejs
NPM_PKGS   := npm
# brotli and zstd variants (issue 15): ht --precompress and htgen's embed only,
# never the library; without them the build works and writes gzip alone.
PKGS       += libbrotli-dev libzstd-dev
# htgen --openapi's documents are validated by @apidevtools/swagger-parser
# (tests/codegen/openapi/run.sh: npm, from nodejs and NPM_PKGS above,
# installs it into ~/.cache/hachettp/npm once; the test fails when it cannot).
FUZZ_PKGS  := clang libclang-rt-14-dev node-llhttp
BENCH_PKGS := wrk nginx-light lighttpd h2o libh2o-dev node-llhttp libr3-dev valgrind
# Windows (issue 8): the mingw-w64 cross compiler, its static zlib, wine64.
WIN_PKGS   := gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev \
              libz-mingw-w64-dev wine64 wine
HARDEN_PKGS := valgrind iproute2 util-linux
LINT_PKGS  := clang clang-tidy cppcheck

.PHONY: all deps bench-deps fuzz-deps build run test fuzz-smoke fuzz bench clean tsan valgrind lint

all: build

deps:
	@./.ci/deps $(PKGS)
	@command -v npm >/dev/null 2>&1 || ./.ci/deps $(NPM_PKGS)

fuzz-deps: deps
	@./.ci/deps $(FUZZ_PKGS)

bench-deps: deps
	@./.ci/deps $(BENCH_PKGS)

build: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD)/release -j $(JOBS)

# The main job: `ht` serving the bundled demo tree on :3000 (Ctrl-C stops it).
# Only ht and what it links are built (not every test suite: `make build`).
run: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD)/release -j $(JOBS) --target ht
	$(BUILD)/release/examples/ht/ht -p 3000 -d examples/public

# The codegen property test's 10,000-route set runs in the epoll tree only:
# generated matchers do not depend on the backend, and its 13 MB file is the
# longest compile of the suite.
test: deps fuzz-deps
	@set -e; for backend in iouring epoll; do \
	  uring=ON big=0; [ $$backend = epoll ] && uring=OFF big=1; \
	  echo "== Debug + ASan/UBSan, backend $$backend"; \
	  cmake -S . -B $(BUILD)/test-$$backend -DCMAKE_BUILD_TYPE=Debug \
	        -DHT_IO_URING=$$uring -DHT_SANITIZE=ON -DHT_WERROR=ON -DHT_PROP_BIG_SETS=$$big; \
	  cmake --build $(BUILD)/test-$$backend -j $(JOBS); \
	  ctest --test-dir $(BUILD)/test-$$backend --output-on-failure -j $(JOBS); \
	done
	@$(MAKE) --no-print-directory release-werror
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory test-windows
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory valgrind
	@$(MAKE) --no-print-directory lint

# Every target, tests included, built as a release is (-O3, no sanitizers;
# epoll) with -Werror: gcc's flow analysis at -O2/-O3 warns where -O0 + ASan
# does not (-Wmaybe-uninitialized, -Warray-bounds). Built, not run: the
# Debug suites above run the same code. The property test's one 10,000-route
# set (HT_PROP_BIG_SETS, a 13 MB generated file, minutes at -O3) is left
# out here; its 80 small sets cover every layout of the generated matcher.
# -g: make valgrind runs this tree's examples and names lines in a report.
RELEASE_WERROR_CONFIGURE := cmake -S . -B $(BUILD)/release-werror -DCMAKE_BUILD_TYPE=Release -DHT_WERROR=ON \
	      -DHT_IO_URING=OFF -DHT_PROP_BIG_SETS=0 -DCMAKE_C_FLAGS=-g >/dev/null
.PHONY: release-werror
release-werror: deps
	$(RELEASE_WERROR_CONFIGURE)
	cmake --build $(BUILD)/release-werror -j $(JOBS)

# Every libFuzzer target (tests/fuzz) from its committed seeds alone (the
# scratch corpus is emptied first: FUZZ_FRESH), with a fixed seed and run
# count, so CI replays the same inputs everywhere (a slower machine stops at
# the time cap within the same sequence; fuzz_conn and fuzz_dsl reach the
# 15 s cap on 2 cores, the others finish their runs in 1-10 s). Fails on any crash.
fuzz-smoke: fuzz-deps
	FUZZ_BUILD=$(BUILD)/fuzz FUZZ_FRESH=1 FUZZ_ARGS="-seed=1 -runs=100000" sh tests/fuzz/run.sh 15

# The Windows build (IOCP backend) cross-compiled with mingw-w64, its portable
# unit suites and tests/portable/http_cases.py under wine64, in a private
# WINEPREFIX (tests/windows/run.sh). Reuses the epoll test build's htgen.
.PHONY: test-windows
test-windows: deps
	@./.ci/deps $(WIN_PKGS)
	BUILD=$(BUILD) JOBS=$(JOBS) sh tests/windows/run.sh \
	  $(if $(wildcard $(BUILD)/test-epoll/codegen/htgen),$(abspath $(BUILD)/test-epoll/codegen/htgen))

FUZZ_SECONDS ?= 300
fuzz: fuzz-deps
	FUZZ_BUILD=$(BUILD)/fuzz sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# Both backends side by side in one run (R, DUR, SERVERS, TESTS: see bench/run.sh).
bench: bench-deps
	@set -e; for backend in iouring epoll; do \
	  uring=ON; [ $$backend = epoll ] && uring=OFF; \
	  cmake -S . -B $(BUILD)/bench-$$backend -DCMAKE_BUILD_TYPE=Release -DHT_NATIVE=ON \
	        -DHT_BUILD_BENCH=ON -DHT_BUILD_TESTS=OFF -DHT_IO_URING=$$uring; \
	  cmake --build $(BUILD)/bench-$$backend -j $(JOBS); \
	done
	bench/run.sh $(BUILD)/bench-iouring $(BUILD)/bench-epoll

clean:
	rm -rf $(BUILD)

# ThreadSanitizer (without ASan, which it cannot be combined with) on the
# suites that run several threads: the worker pool, cross-thread loop wakes,
# the server thread against its clients, deferred responses completed from
# other threads (check_defer: ht_response__post), hostile_server with 2
# workers taking resets (a report fails its graceful-exit check), and the
# microservice, whose workers share the in-memory notes and hear changes
# through one hub (its end-to-end tests, on PostgreSQL too). Only those
# targets are built.
TSAN_TESTS := check_workers check_loop check_server check_server_conn check_server_proc check_defer check_defer_stream hostile_server microservice
tsan: deps
	cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=Debug -DHT_SANITIZE=OFF -DHT_WERROR=ON \
	      -DHT_IO_URING=ON -DHT_BUILD_EXAMPLES=ON -DCMAKE_C_FLAGS=-fsanitize=thread \
	      -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread
	cmake --build $(BUILD)/tsan -j $(JOBS) --target $(TSAN_TESTS)
	TSAN_OPTIONS=halt_on_error=1 ctest --test-dir $(BUILD)/tsan --output-on-failure \
	      -R '^(check_(workers|loop|loop_fallback|server(_conn|_proc)?(_fallback)?|defer(_stream)?)|hostile_resets|microservice_(pg_)?e2e)$$'

# valgrind --leak-check=full on the examples' graceful shutdown (see
# tests/valgrind/examples.sh), on the release-werror tree's (epoll, no
# sanitizers, -O3 -g): the binaries a release ships, and no tree of its
# own. 77: no network namespace on this machine, skipped.
# (After make test's release-werror the build below has nothing to do.)
valgrind: deps
	@./.ci/deps $(HARDEN_PKGS)
	$(RELEASE_WERROR_CONFIGURE)
	cmake --build $(BUILD)/release-werror -j $(JOBS) --target hello workers ht routing
	sh tests/valgrind/examples.sh $(BUILD)/release-werror || [ $$? = 77 ]

# clang-tidy and cppcheck over the library with the checked-in configs
# (.clang-tidy, .cppcheck-suppressions: every exclusion is justified there).
# Fails on any finding.
lint: deps
	@./.ci/deps $(LINT_PKGS)
	CC=clang cmake -S . -B $(BUILD)/lint -DCMAKE_BUILD_TYPE=Debug -DHT_SANITIZE=OFF \
	      -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DHT_BUILD_TESTS=OFF -DHT_BUILD_EXAMPLES=OFF
	cmake --build $(BUILD)/lint -j $(JOBS) --target hachettp
	python3 -c "import json;d=json.load(open('$(BUILD)/lint/compile_commands.json'));json.dump([e for e in d if '/runtime/src/' in e['file']],open('$(BUILD)/lint/cc_runtime.json','w'))"
	cppcheck -q --project=$(BUILD)/lint/cc_runtime.json --enable=warning,style,performance,portability \
	      --std=c11 --inline-suppr --suppressions-list=.cppcheck-suppressions --relative-paths=$(CURDIR) \
	      -D__linux__ -D__x86_64__ -D__GNUC__=12 --error-exitcode=1
	run-clang-tidy -quiet -j $(JOBS) -p $(BUILD)/lint '$(CURDIR)/runtime/src/' > $(BUILD)/lint/tidy.log 2>&1 || true
	@if grep -E 'warning:|error:' $(BUILD)/lint/tidy.log; then echo "clang-tidy: findings above"; exit 1; fi
	@echo "lint: clang-tidy and cppcheck clean"
