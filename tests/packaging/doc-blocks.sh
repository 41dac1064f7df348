#!/bin/sh
# tests/packaging/doc-blocks.sh DOC.md — print, as one bash script, the
# shell blocks of DOC.md marked to run: a line "<!-- test: run -->" right
# before a "```sh" fence.  The blocks keep their order and run in one
# shell, so a variable set by an earlier block is seen by a later one
# (docs-as-tests: tests/packaging/debian.sh runs the walkthroughs in the
# throw-away Debian root).
set -eu
printf '# generated from %s by tests/packaging/doc-blocks.sh\nset -e\n' "$(basename "$1")"
awk '
	/^<!-- test: run -->$/ { armed = 1; next }
	armed && /^```sh$/ { inblock = 1; armed = 0; n++; printf "echo \"--- %s block %d (line %d)\"\n", FILENAME, n, NR; next }
	inblock && /^```$/ { inblock = 0; next }
	inblock { print; next }
	{ armed = 0 }
' "$1"
