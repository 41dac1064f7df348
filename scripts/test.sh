#!/usr/bin/env bash
# scripts/test.sh — the whole test suite, as CI runs it (.ci/run calls this).
#
#   1. install the Debian packages it needs (apt-get update + install)
#   2. build with warnings as errors and fault injection; the unit tests,
#      static checks and three integration tests that differ without sanitizers
#   3. the unit tests under valgrind
#   4. a second build with ASan+UBSan (gcc); make check (the whole suite)
#   5. the libFuzzer targets (clang), a short run each (LAPS_FUZZ_SECONDS)
#   6. make distcheck (the unit tests inside it)
#   7. the Debian packages: build, lintian, blhc, install/remove/purge in a
#      throw-away Debian 12 root (tests/packaging/debian.sh)
#
# Each stage prints its test runners' summaries; the last line is the total.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$top/scripts/deps.sh"
laps_install_deps

jobs=$(nproc 2>/dev/null || echo 2)
work=$(mktemp -d "${TMPDIR:-/tmp}/laps-ci.XXXXXX")
keep_work=${LAPS_KEEP_BUILD:-0}
cleanup() { [ "$keep_work" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

cd "$top"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

total_pass=0 total_fail=0 total_skip=0
# banner TEXT: a stage's heading, after the previous one's wall time
banner_at=
banner() {
	[ -n "$banner_at" ] && echo "    (that took $((SECONDS - banner_at)) s)"
	banner_at=$SECONDS
	echo "=== $*"
}
stage_summary() { # $1 = build dir, $2 = stamp file older than this stage's results
	local out p f sk
	out=$(bash "$top/tests/summary.sh" "$1" "$2")
	printf '%s\n' "$out"
	read -r p f sk < <(printf '%s\n' "$out" | awk '/^tests: /{print $2, $4, $6}' | tail -n 1)
	total_pass=$((total_pass + ${p:-0}))
	total_fail=$((total_fail + ${f:-0}))
	total_skip=$((total_skip + ${sk:-0}))
}

run_check() { # $1 = build dir, $2 = stage name, rest = make args
	local b=$1 name=$2 rc=0
	shift 2
	banner "$name: make check"
	touch "$b/.stamp-$name"
	sleep 1
	make -C "$b" -j"$jobs" check "$@" >"$b/check.out" 2>&1 || rc=$?
	stage_summary "$b" "$b/.stamp-$name"
	if [ "$rc" -ne 0 ]; then
		echo "=== $name: make check FAILED (exit $rc); failing logs:"
		grep -l -E '^:test-result: (FAIL|ERROR)' "$b"/tests/*.trs "$b"/tests/*/*.trs 2>/dev/null |
			while read -r trs; do
				echo "--- ${trs%.trs}.log"
				# (a log without "not ok" lines must not end the script: set -e, pipefail)
				{ grep -E '^(not ok|FAIL)' "${trs%.trs}.log" || true; } | head -n 20 | sed 's/^/FAILED: /'
				tail -n 60 "${trs%.trs}.log" || true
			done
		tail -n 30 "$b/check.out"
		exit 1
	fi
}

# 2. main build
banner "build: gcc, -Werror, fault injection"
b1="$work/build"
mkdir -p "$b1"
(cd "$b1" && "$top/configure" --enable-werror --enable-fault-injection) >"$work/configure.out" 2>&1 ||
	{ tail -n 40 "$work/configure.out"; exit 1; }
sed -n '/configuration summary/,$p' "$work/configure.out"
make -C "$b1" -j"$jobs" >"$work/make.out" 2>&1 || { tail -n 60 "$work/make.out"; exit 1; }
# The integration suite runs once, in stage 4 under ASan+UBSan: the same
# checks, plus memory and undefined-behaviour errors.  Here: the unit tests,
# the static checks, and the integration tests whose checks differ in a
# sanitizer build (agent_shadow: laps-agent links no libcrypt; backend_modules:
# a set-uid laps-get, where LeakSanitizer cannot run; rest_engine: the
# PKCS#11 engine's exit).
unit_tests=$(make -s -C "$b1" print-unit-tests)
static_tests=$(make -s -C "$b1" print-static-tests)
plain_tests="tests/integration/agent_shadow.sh tests/integration/backend_modules.sh tests/integration/rest_engine.sh"
run_check "$b1" "main" TESTS="$unit_tests $static_tests $plain_tests"

# 3. valgrind over the unit tests (CUnit programs)
banner "valgrind: unit tests"
vg="valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
run_check "$b1" "valgrind" TESTS="$unit_tests" LOG_COMPILER="$vg"

# 4. sanitizers
banner "build: gcc, ASan+UBSan"
b2="$work/build-asan"
mkdir -p "$b2"
(cd "$b2" && "$top/configure" --enable-werror --enable-sanitizers --enable-fault-injection) \
	>"$work/configure-asan.out" 2>&1 || { tail -n 40 "$work/configure-asan.out"; exit 1; }
make -C "$b2" -j"$jobs" >"$work/make-asan.out" 2>&1 || { tail -n 60 "$work/make-asan.out"; exit 1; }
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_check "$b2" "sanitizers"

# 5. fuzzers
banner "build: clang, libFuzzer"
b3="$work/build-fuzz"
mkdir -p "$b3"
(cd "$b3" && CC=clang "$top/configure" --enable-fuzzing) >"$work/configure-fuzz.out" 2>&1 ||
	{ tail -n 40 "$work/configure-fuzz.out"; exit 1; }
make -C "$b3" -j"$jobs" >"$work/make-fuzz.out" 2>&1 || { tail -n 60 "$work/make-fuzz.out"; exit 1; }
# One target per core at a time: each run is CPU-bound and independent.
fuzz_one() { # $1 = target; writes $work/$name.rc
	local f=$1 name corpus_src corpus rc=0
	name=$(basename "$f")
	corpus_src="$top/tests/fuzz/corpus/${name#fuzz_}"
	corpus="$work/corpus-$name"
	mkdir -p "$corpus"
	[ -d "$corpus_src" ] && cp -r "$corpus_src"/. "$corpus"/
	"$f" -max_total_time="${LAPS_FUZZ_SECONDS:-10}" -rss_limit_mb=2048 -print_final_stats=0 \
		"$corpus" >"$work/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$work/$name.rc"
}
export -f fuzz_one
export top work
targets=()
for f in "$b3"/tests/fuzz/fuzz_*; do
	[ -x "$f" ] && [ -f "$f" ] && targets+=("$f")
done
printf '%s\0' "${targets[@]}" | xargs -0 -n 1 -P "$jobs" bash -c 'fuzz_one "$1"' _
fuzz_pass=0 fuzz_fail=0
for f in "${targets[@]}"; do
	name=$(basename "$f")
	if [ "$(cat "$work/$name.rc" 2>/dev/null)" = 0 ]; then
		echo "fuzz: $name: clean ($(find "$work/corpus-$name" -type f | wc -l) corpus inputs)"
		fuzz_pass=$((fuzz_pass + 1))
	else
		echo "fuzz: $name: FAILED"
		tail -n 40 "$work/$name.out"
		fuzz_fail=$((fuzz_fail + 1))
	fi
done
echo "fuzz: $fuzz_pass passed, $fuzz_fail failed"
total_pass=$((total_pass + fuzz_pass))
total_fail=$((total_fail + fuzz_fail))
[ "$fuzz_fail" -eq 0 ] || exit 1

# 6. distcheck
banner "make distcheck"
# The full suite already ran twice above; inside distcheck the unit tests
# prove the tarball builds and works (build, install, uninstall, VPATH).
make -C "$b1" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror" TESTS="$unit_tests" \
	>"$work/distcheck.out" 2>&1 ||
	{ tail -n 80 "$work/distcheck.out"; exit 1; }
grep -E 'archives ready for distribution|^laps-.*\.tar' "$work/distcheck.out" | head -n 3

# 7. Debian packages (its own summary line: "debian: N passed, N failed, N skipped")
banner "Debian packages"
deb_rc=0
bash "$top/tests/packaging/debian.sh" >"$work/debian.out" 2>&1 || deb_rc=$?
cat "$work/debian.out"
read -r p f sk < <(awk '/^debian: [0-9]+ passed, /{print $2, $4, $6}' "$work/debian.out" | tail -n 1) || true
total_pass=$((total_pass + ${p:-0}))
total_fail=$((total_fail + ${f:-0}))
total_skip=$((total_skip + ${sk:-0}))
if [ "$deb_rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
	echo "=== Debian packages: exit $deb_rc without a summary"
	total_fail=$((total_fail + 1))
fi

banner "done in $((SECONDS / 60)) min $((SECONDS % 60)) s"
echo
echo "all stages: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
