#!/bin/sh
# agent_faults.sh — every fault point x {kill, fail} x {shadow, pam} with the
# escrow in FAULT_BACKEND (file, the default; agent_faults_ldap.sh and
# agent_faults_rest.sh run the same matrix against a real slapd and a real
# laps-escrowd): after the fault the escrow still holds the account's
# password (current record, or previous when the current one is pending),
# and a re-run without fault finishes with a confirmed record that
# matches.  Then two agents at once.  The invariant is read by an admin
# (ldap: the readers' bind; rest: an admin certificate), never by the
# device, which cannot read its own escrow back.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
need_fault_injection
FAULT_BACKEND=${FAULT_BACKEND:-file}

case $FAULT_BACKEND in
file) ;;
ldap)
	command -v ldapsearch >/dev/null || { echo "SKIP: ldap-utils missing"; exit 77; }
	. "$top_srcdir/tests/integration/lib/slapd.sh"
	trap 'slapd_cleanup; rm -rf "$T"' EXIT
	slapd_start "$T/slapd" --quiet
	rc=$?
	[ $rc -eq 0 ] || exit $rc
	export LDAPCONF=/dev/null LDAPRC=/dev/null
	ESCROW_ADMIN_CONF=$T/reader.conf ;;
rest)
	. "$top_srcdir/tests/integration/rest_lib.sh"
	rest_setup
	ESCROW_ADMIN_CONF=$T/admin.conf ;;
*) echo "FAULT_BACKEND=$FAULT_BACKEND: file, ldap or rest" >&2; exit 99 ;;
esac
export ESCROW_ADMIN_CONF

# $T/laps.conf for host1 in slapd, and $T/reader.conf (the readers' bind)
ldap_conf() {
	local who dn secret f
	for who in reader agent; do
		if [ $who = agent ]; then
			dn=$(slapd_device_dn host1) secret=$(slapd_device_secret host1) f=$T/laps.conf
		else
			dn=$LDAP_READER_DN secret=$LDAP_READER_SECRET f=$T/reader.conf
		fi
		write_conf lapsadmin "$METHOD"
		sed -i -e 's/^backend = file$/backend = ldap/' -e 's/^device = .*/device = host1/' \
			-e '/^\[file\]$/,$d' "$T/laps.conf"
		printf '%s\n' "[ldap]" "uri = $LDAP_URI" "tls = starttls" "ca_file = $LDAP_CA" \
			"bind = simple" "bind_dn = $dn" "bind_secret_file = $secret" \
			"base = $LDAP_DEVICES_BASE" "filter = (cn=%h)" "timeout = 3s" >>"$T/laps.conf"
		if [ "${FAULT_LDAP_MODE:-}" = encrypted ]; then # agent_faults_ldap_enc.sh
			[ -e "$T/rootkey.json" ] ||
				python3 "$top_srcdir/tests/integration/gkdi_rootkey.py" "$T/rootkey.json" || exit 99
			printf '%s\n' "schema = mslaps" "encrypt_to = S-1-5-21-1-2-3-512" \
				"gkdi_root_key_file = $T/rootkey.json" >>"$T/laps.conf"
		else
			echo "schema = laps" >>"$T/laps.conf"
		fi
		[ $who = reader ] && mv "$T/laps.conf" "$f"
	done
	chmod 600 "$T/laps.conf" "$T/reader.conf"
}

steps="after_lock after_journal after_escrow_write after_journal_escrowed before_local_set
after_local_set after_confirm after_state after_journal_removed"

reset_case() {
	rm -rf "$T/root" "$T/state" "$T/escrow" "$T/passdb" "$T/pam.d"
	make_root "$T/root"
	mkdir -p "$T/state" && chmod 0700 "$T/state"
	case $FAULT_BACKEND in
	ldap) ldap_conf ;;
	rest) rest_conf mtls ;; # the device's certificate: no token round trip
	*) write_conf lapsadmin "$METHOD" ;;
	esac
	[ "$METHOD" = pam ] && setup_pam
	:
}
escrow_admin_conf() { echo "${ESCROW_ADMIN_CONF:-$T/laps.conf}"; }

[ -e "$T/admin.key" ] || "$TOOL" keygen "$T" >/dev/null || exit 99
methods=shadow
if [ -n "$PAM_MATRIX" ] && [ -e "$PAM_TESTMOD" ] &&
   ! ldd "$AGENT" 2>/dev/null | grep -q libclang_rt.asan; then
	methods="shadow pam"
else
	echo "# pam_wrapper not usable: pam method cases skipped"
fi

for METHOD in $methods; do
	for step in $steps; do
		for action in kill fail; do
			name="$FAULT_BACKEND $METHOD $step:$action"
			reset_case
			agent run >/dev/null 2>&1 || { fail "$name: baseline rotation"; continue; }
			"$TOOL" expire "$(escrow_admin_conf)" lapsadmin || { fail "$name: expire"; continue; }
			before=$("$TOOL" show "$(escrow_admin_conf)" lapsadmin)
			LAPS_FAULT="$step:$action" agent run >"$T/out" 2>&1
			rc=$?
			if [ "$rc" -eq 0 ]; then
				fail "$name: faulted run exited 0"; cat "$T/out"; continue
			fi
			if [ "$action" = kill ] && [ "$rc" -ne 137 ]; then
				fail "$name: expected death by SIGKILL, got $rc"; cat "$T/out"; continue
			fi
			if ! inv=$(check_invariant); then
				fail "$name: invariant broken right after the fault: $inv"; continue
			fi
			if ! agent run >"$T/out" 2>&1; then
				fail "$name: re-run failed"; cat "$T/out"; continue
			fi
			inv=$(check_invariant)
			if [ "$inv" != "ok current confirmed" ]; then
				fail "$name: after re-run: $inv"; continue
			fi
			if ls "$T/state"/journal.* >/dev/null 2>&1; then
				fail "$name: journal left behind"; continue
			fi
			after=$("$TOOL" show "$(escrow_admin_conf)" lapsadmin)
			[ "$after" != "$before" ] || { fail "$name: no rotation happened"; continue; }
			# and now nothing is due: silent, exit 0
			out=$(agent run 2>&1); rc=$?
			if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
				fail "$name: third run not silent/0 (rc $rc): $out"; continue
			fi
			pass "$name ($inv)"
		done
	done
done

# ---- two agents at once (shadow) ----
METHOD=shadow
reset_case
agent run >/dev/null 2>&1 || fail "concurrency: baseline"
"$TOOL" expire "$(escrow_admin_conf)" lapsadmin
# exec: $! must be the agent itself, not a subshell
(LAPS_FAULT=after_lock:stop exec "$AGENT" -c "$T/laps.conf" run >"$T/out1" 2>&1) &
pid1=$!
# wait (bounded) until the first agent is stopped holding the lock
i=0
while [ $i -lt 100 ]; do
	st=$(awk '{print $3}' "/proc/$pid1/stat" 2>/dev/null)
	[ "$st" = T ] && break
	i=$((i + 1)); sleep 0.1
done
if [ "$st" != T ]; then
	fail "concurrency: first agent did not stop"
	kill -KILL "$pid1" 2>/dev/null; wait "$pid1"
	finish
fi
agent -w 0 run >"$T/out2" 2>&1
rc=$?
if [ "$rc" -eq 5 ] && grep -q "another laps-agent is running" "$T/out2"; then
	pass "second agent exits 5 while the lock is held"
else
	fail "second agent: rc $rc: $(cat "$T/out2")"
fi
# a waiting agent proceeds once the first finishes
("$AGENT" -c "$T/laps.conf" -w 60 run >"$T/out3" 2>&1) &
pid3=$!
kill -CONT "$pid1"
wait "$pid1"; rc1=$?
wait "$pid3"; rc3=$?
if [ "$rc1" -eq 0 ] && [ "$rc3" -eq 0 ] && [ "$(check_invariant)" = "ok current confirmed" ]; then
	pass "first agent rotates, the waiting one finds nothing due"
else
	fail "concurrency: rc1 $rc1 rc3 $rc3: $(cat "$T/out1" "$T/out3")"
fi
finish
