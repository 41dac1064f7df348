#!/bin/sh
# agent_units.sh — the generated systemd units: @sbindir@ substituted,
# `systemd-analyze verify` clean, and the exposure score of
# `systemd-analyze security --offline=true` printed (a number, not a pass/fail).
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
sa=${SYSTEMD_ANALYZE:-$(command -v systemd-analyze)}
[ -n "$sa" ] && [ -x "$sa" ] || { echo "SKIP: systemd-analyze not installed"; exit 77; }
fails=0
T=$(mktemp -d "${TMPDIR:-/tmp}/laps-units.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT

for u in laps-agent.service laps-agent-postauth.service; do
	f=$top_builddir/systemd/$u
	[ -e "$f" ] || { echo "not generated: $f (make all first)"; exit 99; }
	if grep -q '@[a-z]*@' "$f"; then echo "FAIL: $u has unsubstituted @vars@"; fails=$((fails + 1)); fi
	grep -q '^ExecStart=/.*/laps-agent run' "$f" || { echo "FAIL: $u ExecStart"; fails=$((fails + 1)); }
	# verify needs ExecStart to exist: point a copy at the build tree's binary
	sed "s|^ExecStart=[^ ]*/laps-agent|ExecStart=$(cd "$top_builddir" && pwd)/laps-agent|" "$f" > "$T/$u"
done
cp "$top_srcdir/systemd/laps-agent.timer" "$top_srcdir/systemd/laps-agent-postauth.timer" "$T/"
if out=$(cd "$T" && "$sa" verify --man=no "$T"/*.service "$T"/*.timer 2>&1) && [ -z "$out" ]; then
	echo "ok - systemd-analyze verify: clean"
else
	echo "FAIL - systemd-analyze verify:"; echo "$out"; fails=$((fails + 1))
fi
for u in laps-agent.service laps-agent-postauth.service; do
	score=$("$sa" security --offline=true "$T/$u" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$score" ]; then
		echo "# exposure score $u: $score"
		# hardened units stay below 4 ("OK"); regressions show up here
		awk -v s="$score" 'BEGIN { exit !(s < 4.0) }' || { echo "FAIL - $u exposure $score >= 4.0"; fails=$((fails + 1)); }
	else
		echo "# systemd-analyze security --offline not supported here"
	fi
done
# the hardening the agent relies on is actually present
for key in NoNewPrivileges=yes ProtectSystem=strict 'ReadWritePaths=/etc /var/lib/laps' UMask=0077 \
	   LimitCORE=0 MemoryDenyWriteExecute=yes SystemCallArchitectures=native; do
	grep -qx "$key" "$T/laps-agent.service" || { echo "FAIL - missing $key"; fails=$((fails + 1)); }
done
[ "$fails" -eq 0 ] && { echo "all passed"; exit 0; }
exit 1
