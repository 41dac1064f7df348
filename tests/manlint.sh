#!/usr/bin/env bash
# Every man page under man/ must be clean under `mandoc -T lint -W warning`.
set -u
: "${top_srcdir:=.}"
mandoc=${MANDOC:-$(command -v mandoc)}
[ -n "$mandoc" ] || { echo "mandoc not installed"; exit 77; }
pass=0 fail=0
for page in "$top_srcdir"/man/*.[1-8]; do
	[ -e "$page" ] || continue
	if out=$("$mandoc" -T lint -W warning "$page" 2>&1) && [ -z "$out" ]; then
		pass=$((pass + 1))
	else
		echo "FAIL: $page"; printf '%s\n' "$out"
		fail=$((fail + 1))
	fi
	# mdoc, not man(7): the first macro must be .Dd
	if ! grep -m1 -E '^\.(Dd|TH)' "$page" | grep -q '^\.Dd'; then
		echo "FAIL: $page is not mdoc"; fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$pass" -gt 0 ] || { echo "no man page found"; exit 99; }
[ "$fail" -eq 0 ]
