#!/bin/sh
# tests/events_used.sh — the event identifiers of escrow/events.h are the
# ones the programs log (docs/EVENTS.md):
#  1. every LAPS_EV_<NAME> of the table has a call site in agent/, pam/,
#     server/ (a documented id nobody emits is a broken promise);
#  2. laps-agent, pam_laps and laps-escrowd log outcomes only through
#     log_event/laps_log_event: no log_err/log_warn/log_notice (or
#     laps_log_msg at those levels) outside the files listed below, which
#     log diagnostics, not outcomes.
set -u
: "${top_srcdir:=.}"
cd "$top_srcdir" || exit 99
[ -f escrow/events.h ] || { echo "escrow/events.h not found"; exit 99; }

fails=0
names=$(sed -n 's/^[[:space:]]*X([0-9]*, \([A-Z_0-9]*\),.*/\1/p' escrow/events.h)
[ -n "$names" ] || { echo "no events parsed from escrow/events.h"; exit 99; }
n=0
for name in $names; do
	n=$((n + 1))
	if ! grep -rqE "LAPS_EV_$name\b" agent pam server; then
		echo "FAIL: LAPS_EV_$name has no call site"
		fails=$((fails + 1))
	fi
done
echo "ok: $n events checked for call sites"

# fault.c: test builds only; http.c: libmicrohttpd's own diagnostics (info)
allow='^(agent/fault\.c|server/http\.c):'
plain=$(grep -nE '\b(log_err|log_warn|log_notice|log_err_rc|log_warn_rc)\(|laps_log_msg\((LOG_|LAPS_LOG_)(ERR|WARNING|NOTICE)' \
	agent/*.c pam/*.c server/*.c | grep -Ev "$allow")
if [ -n "$plain" ]; then
	echo "FAIL: outcome lines without an event id (use log_event, see docs/EVENTS.md):"
	echo "$plain"
	fails=$((fails + 1))
else
	echo "ok: no plain error/warning/notice lines in agent/, pam/, server/"
fi
[ "$fails" -eq 0 ] || exit 1
exit 0
