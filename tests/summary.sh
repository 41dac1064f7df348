#!/usr/bin/env bash
# tests/summary.sh BUILDDIR [STAMP] — print each CUnit "Run Summary" and a
# total over the automake test results (.trs) newer than STAMP (default:
# the build's Makefile), i.e. of the last `make check`.
set -u
b=${1:-.}
stamp=${2:-$b/Makefile}
pass=0 fail=0 skip=0 cunit_tests=0 cunit_failed=0
while IFS= read -r trs; do
	log=${trs%.trs}.log
	res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
	name=${trs#"$b"/}
	name=${name%.trs}
	case $res in
	PASS | XFAIL) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)) ;;
	esac
	if grep -q 'Run Summary' "$log" 2>/dev/null; then
		echo "--- $name ($res)"
		sed -n '/Run Summary/,/Elapsed time/p' "$log"
		read -r t f < <(awk '/^ *tests /{print $3, $5; exit}' "$log")
		cunit_tests=$((cunit_tests + ${t:-0}))
		cunit_failed=$((cunit_failed + ${f:-0}))
	else
		tl=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" 2>/dev/null | tail -n 1)
		echo "--- $name ($res)${tl:+: $tl}"
	fi
done < <(find "$b" -name '*.trs' -newer "$stamp" 2>/dev/null | sort)
echo "CUnit: $cunit_tests tests run, $cunit_failed failed"
echo "tests: $pass passed, $fail failed, $skip skipped"
