# Entry points. `make run` and `make test` install what is missing, build and go.
JOBS ?= $(shell nproc)
CONFIG ?= examples/sessiongate.yaml

.PHONY: deps run test build package debug asan tsan fuzz fuzz-run bench mutate soak coverage format clean

deps:
	./scripts/install-deps

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# A Debian package of the release build: build/release/sessiongate_<version>_amd64.deb.
package: build
	cd build/release && cpack -G DEB

run: build
	./scripts/run-demo $(CONFIG)

debug: deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)

test: build
	ctest --preset release

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1 ctest --preset tsan -E "slow|e2e"

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

# A longer fuzzing session per target; see fuzz/README.md.
FUZZ_SECONDS ?= 60
fuzz-run: fuzz
	./fuzz/run-all $(FUZZ_SECONDS)

bench:
	./scripts/install-deps --bench
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	/usr/bin/python3 bench/run.py

# One-line mutations of what matters most, each rebuilt in a scratch copy and run against
# the tests that should catch it (tests/mutations/list.txt). Slow: not part of `make test`.
mutate: deps
	./scripts/mutate

# The fault suite's long versions (tests/faults with SG_SOAK=1) and a summary table.
soak: build
	./scripts/soak

# clang source-based coverage over the whole suite, per file and folder (scripts/coverage).
coverage: deps
	./scripts/coverage

format:
	find src tests fuzz bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build
