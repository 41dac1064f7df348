#!/usr/bin/env bash
# tests/wordlist.sh — the word list compiled into libagent (agent/wordlist.c,
# generated at build time) is exactly what data/wordlist/mkwordlist.awk makes
# of data/wordlist/eff_large_wordlist.txt: 7,776 words, one per source line,
# every word equal and in the same order.  (test_passgen checks that the
# words differ from the EFF originals only where the README says.)
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
src=$top_srcdir/data/wordlist
dump=$top_builddir/tests/unit/wordlist_dump
awk=${AWK:-awk}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/laps-wordlist.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

"$dump" >"$tmp/built" || { echo "FAIL: $dump exited $?"; exit 1; }
"$awk" -v list=1 -f "$src/mkwordlist.awk" "$src/eff_large_wordlist.txt" >"$tmp/expected" ||
	{ echo "mkwordlist.awk -v list=1 failed"; exit 99; }

fail=0
n_built=$(wc -l <"$tmp/built")
n_source=$(wc -l <"$src/eff_large_wordlist.txt")
n_expected=$(wc -l <"$tmp/expected")
echo "compiled: $n_built words, source: $n_source lines, generator: $n_expected words"
if [ "$n_built" -ne 7776 ] || [ "$n_built" -ne "$n_source" ] || [ "$n_built" -ne "$n_expected" ]; then
	echo "FAIL: word counts differ"
	fail=1
fi
if ! diff -u "$tmp/expected" "$tmp/built" >"$tmp/diff"; then
	echo "FAIL: compiled word list differs from the generator's:"
	head -n 20 "$tmp/diff"
	fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS: compiled word list matches data/wordlist"
exit "$fail"
