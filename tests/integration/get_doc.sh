#!/bin/sh
# laps-get's documentation and completion: the man page is mdoc and lint
# clean and documents every exit status and option; the bash completion
# loads and completes options, sources and the keygen command.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"
page=$top_srcdir/man/laps-get.1
comp=$top_srcdir/completion/laps-get.bash

if command -v "${MANDOC:-mandoc}" >/dev/null 2>&1; then
	expect 0 "man page is lint clean" "${MANDOC:-mandoc}" -T lint -W warning "$page"
	run "${MANDOC:-mandoc}" -T ascii "$page"
	sed 's/.\x08//g' "$T/out" >"$T/page" # drop overstrike (bold)
	for code in 0 1 2 3 4 5 6 7 8 9 10; do
		check "exit status $code documented" "$(sed -n '/^EXIT STATUS/,/^EXAMPLES/p' "$T/page" | grep -cE "^ +$code[[:space:]]+[A-Z]")" -ge 1
	done
else
	echo "mandoc missing: lint skipped"
fi
# every long option of --help appears in the man page
"$LAPS_GET" --help >"$T/help"
for opt in $(grep -oE -- '--[a-z-]+' "$T/help" | sort -u); do
	check "man page documents $opt" "$(grep -cF -- "${opt#--}" "$page")" -ge 1
done

expect 0 "completion script parses" bash -n "$comp"
# complete a few words with the function the script registers
compl() { # compl WORD...: prints the candidates for the last word
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_laps_get
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
check "completes --expire" "$(compl laps-get --exp)" = "--expire"
check "completes keygen" "$(compl laps-get keyg | grep -c '^keygen$')" -eq 1
check "completes --source values" "$(compl laps-get --source gr)" = graph
check "completes keygen options" "$(compl laps-get keygen --no-)" = "--no-passphrase"
check "completes expire options" "$(compl laps-get expire --dr)" = "--dry-run"
check "completes the approvals subcommand" "$(compl laps-get approval | grep -c '^approvals$')" -eq 1
check "completes enroll-token" "$(compl laps-get enroll-t)" = "enroll-token"
check "completes device verbs" "$(compl laps-get device re)" = "reenroll"
check "completes enroll-token create options" "$(compl laps-get enroll-token create --name)" = "--name-pattern"
check "completes device list --status values" "$(compl laps-get device list --status dis)" = "disabled"
check "registers for laps-get" "$(bash -c '. "$1"; complete -p laps-get' _ "$comp" | grep -c _laps_get)" -eq 1

finish
