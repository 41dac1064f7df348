#!/bin/sh
# agent_install.sh — install the agent's files into a DESTDIR and inspect
# the installed tree: modes (binary 0755, units/man/examples 0644), the
# units' ExecStart pointing at the installed binary.  (A packaged cron job
# once shipped without its execute bit and never ran; modes are tested.)
: "${top_builddir:=.}"
MAKE=${MAKE:-make}
command -v "$MAKE" >/dev/null || { echo "SKIP: no make"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/laps-install.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

vars=$(printf 'agent-print-vars:\n\t@echo "$(sbindir)|$(systemdsystemunitdir)|$(mandir)|$(docdir)"\n' |
	MAKEFLAGS= MFLAGS= MAKELEVEL= "$MAKE" --no-print-directory -s -C "$top_builddir" -f Makefile -f - agent-print-vars) || exit 99
IFS='|' read -r sbindir unitdir mandir docdir <<EOV
$vars
EOV
MAKEFLAGS= MFLAGS= MAKELEVEL= "$MAKE" --no-print-directory -s -C "$top_builddir" DESTDIR="$T" install-sbinPROGRAMS install-systemdsystemunitDATA \
	install-dist_systemdsystemunitDATA install-man8 install-dist_examplesDATA > "$T.log" 2>&1 ||
	{ cat "$T.log"; rm -f "$T.log"; echo "make install failed"; exit 99; }
rm -f "$T.log"

mode() { stat -c %a "$1" 2>/dev/null; }
check_mode() { [ "$(mode "$1")" = "$2" ] && ok "$3 mode $2" || bad "$3: mode $(mode "$1") (want $2): $1"; }
check_mode "$T$sbindir/laps-agent" 755 "sbin/laps-agent"
for u in laps-agent.service laps-agent.timer laps-agent-postauth.service laps-agent-postauth.timer; do
	check_mode "$T$unitdir/$u" 644 "$u"
done
check_mode "$T$mandir/man8/laps-agent.8" 644 "laps-agent.8"
check_mode "$T$docdir/examples/cron.d-laps-agent" 644 "cron example"
check_mode "$T$docdir/examples/pam.d-laps" 644 "pam.d example"
for u in laps-agent.service laps-agent-postauth.service; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$T$unitdir/$u")
	[ "$exe" = "$sbindir/laps-agent" ] && [ -x "$T$exe" ] && ok "$u ExecStart -> installed $exe" ||
		bad "$u ExecStart '$exe' (sbindir $sbindir)"
done
"$T$sbindir/laps-agent" --version | grep -q '^laps-agent ' && ok "installed binary runs" || bad "installed binary"
# the cron example calls the agent by absolute path (cron's PATH lacks /usr/sbin)
grep -Eq '^[^#].*root[[:space:]]+/[^ ]*/laps-agent run' "$T$docdir/examples/cron.d-laps-agent" &&
	ok "cron example uses an absolute path" || bad "cron example path"
[ "$fails" -eq 0 ] && { echo "all passed"; exit 0; }
exit 1
