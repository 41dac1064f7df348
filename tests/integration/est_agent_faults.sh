#!/bin/bash
# est_agent_faults.sh — the fault matrix of enrollment and renewal
# (backends/rest_est.c's steps, agent/fault.c): laps-agent is killed
# (LAPS_FAULT=step:kill) or fails (step:fail) at every step of the
# certificate renewal inside `run` and of `laps-agent enroll`, against a real
# laps-escrowd with [est].  Afterwards the agent's next start (which recovers
# first) holds a matching pair — the old one when the kill came before the
# key's rename (the commit point), the new one from then on, never neither —
# and a real mTLS rotation with it succeeds (invariant verified); a plain
# rerun then renews and everything is consistent (a pair, no stray file).
# Needs --enable-fault-injection and root.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
"$AGENT" --version 2>&1 | grep -q fault-injection ||
	{ echo "SKIP: laps-agent built without --enable-fault-injection"; exit 77; }
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_agent_setup

escrowd_kill
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=est-ca \
	-keyout "$T/pki/estca.key" -out "$T/pki/estca.crt" >/dev/null 2>&1 || exit 99
chmod 600 "$T/pki/estca.key"
cat "$T/pki/ca.crt" "$T/pki/estca.crt" >"$T/pki/clientcas.pem"
sed -i 's|^cert_admins = admin-robot=laps.read,laps.secret,laps.expire$|units = lab:testhost\ncert_admins = admin-robot=laps.read,laps.secret,laps.expire,laps.enroll|' "$T/escrowd.conf"
sed -i "s|^client_ca = .*|client_ca = $T/pki/clientcas.pem|" "$T/escrowd.conf"
# 60 s certificates: notBefore is backdated 5 min, so every run renews
printf '%s\n' "" "[est]" "ca_cert = $T/pki/estca.crt" "ca_key = $T/pki/estca.key" \
	"lifetime = 60s" >>"$T/escrowd.conf"
escrowd_start
admin() { # admin PATH JSON: POST as admin-robot; status on stdout, body in $T/body
	curl -sS --cacert "$T/pki/ca.crt" --cert "$T/pki/admin-robot.crt" --key "$T/pki/admin-robot.key" \
		-H 'Content-Type: application/json' --data-binary "$2" -o "$T/body" -w '%{http_code}' \
		"$ESCROWD_URL$1" 2>/dev/null
}
s=$(admin /v1/enroll-tokens '{"unit":"lab","uses":100,"expires_in":3600}')
[ "$s" = 201 ] || { echo "token: $s"; cat "$T/body"; exit 99; }
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/body" >"$T/token"
chmod 600 "$T/token"

mkdir -p "$T/dev" && chmod 700 "$T/dev"
CRT=$T/dev/agent.crt KEY=$T/dev/agent.key
rest_conf mtls
sed -i "s|^cert_file = .*|cert_file = $CRT|; s|^key_file = .*|key_file = $KEY|" "$T/laps.conf"

pub_key() { openssl pkey -in "$1" -pubout 2>/dev/null | sha256sum | cut -c1-16; }
pub_crt() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null | sha256sum | cut -c1-16; }
NONE=$(printf '' | sha256sum | cut -c1-16)
pair_ok() { # the pair on disk matches, and no staged file is left
	[ -s "$KEY" ] && [ "$(pub_key "$KEY")" = "$(pub_crt "$CRT")" ] && [ ! -e "$CRT.new" ] &&
		[ ! -e "$KEY.new" ] && [ -z "$(ls -A "$T/dev" | grep -v '^agent\.\(crt\|key\)$')" ]
}
rotates() { # rotates ARGS...: a real mTLS rotation against laps-escrowd (invariant verified)
	local before after inv rc
	before=$(record_of)
	agent "$@" >"$T/out" 2>&1; rc=$?
	inv=$(check_rest_invariant); after=$(record_of)
	[ $rc -eq 0 ] && [ "$inv" = "ok current confirmed" ] && [ "$before" != "$after" ]
}
# the new key of an interrupted replacement: KEY.new, or KEY when it changed
new_key() { # new_key OLD
	if [ -e "$KEY.new" ]; then pub_key "$KEY.new"
	elif [ -s "$KEY" ] && [ "$(pub_key "$KEY")" != "$1" ]; then pub_key "$KEY"
	else echo none; fi
}
# which pair the step leaves: the old one before the key's rename, the new one after
expect_for() { case $1 in est_after_key_rename | est_after_cert_rename) echo new ;; *) echo old ;; esac; }
# after an interruption: recovery only (the renewal then fails at the injected
# est_after_recover), the rotation runs with the recovered pair
recovered() { # recovered DESC OLD NEW EXPECT
	local got
	if ! LAPS_FAULT=est_after_recover:fail rotates rotate; then
		fail "$1: rotation with the recovered pair"; cat "$T/out"; return
	fi
	got=$(pub_key "$KEY")
	case $4 in old) [ "$got" = "$2" ] ;; new) [ "$got" = "$3" ] && [ "$3" != "$2" ] ;; esac &&
		pair_ok && pass "$1: the $4 pair works (rotation, invariant), nothing staged left" ||
		{ fail "$1: expected the $4 pair (old $2 new $3 got $got)"; ls -lA "$T/dev"; cat "$T/out"; }
}
consistent() { # consistent DESC: a plain run renews and rotates; a pair, no stray file
	local k0
	k0=$(pub_key "$KEY")
	rotates rotate && pair_ok && [ "$(pub_key "$KEY")" != "$k0" ] &&
		pass "$1: rerun renews and rotates, the pair consistent" ||
		{ fail "$1: rerun"; ls -lA "$T/dev"; cat "$T/out"; }
}

agent enroll --server "$ESCROWD_URL" --ca "$T/pki/ca.crt" --token-file "$T/token" >"$T/out" 2>&1 &&
	pair_ok || { cat "$T/out"; exit 99; }
rotates rotate && pass "enrolled; run renews (every run: 60 s certificates) and rotates" ||
	{ fail "first run"; cat "$T/out"; }
# status: the certificate's expiry (as openssl reads it) and no failure yet
na=$(date -u -d "$(openssl x509 -in "$CRT" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
agent status >"$T/status" 2>&1
grep -qx "certificate: $CRT" "$T/status" && grep -qx "  expires: $na" "$T/status" &&
	grep -qx "  last renewal failure: none" "$T/status" &&
	pass "status: the certificate's expiry ($na), no renewal failure" ||
	{ fail "status"; cat "$T/status"; }
agent status --json >"$T/status.json" 2>&1
python3 -c 'import json,sys,calendar,time
c=json.load(open(sys.argv[1]))["certificate"]
assert c["not_after"] == calendar.timegm(time.strptime(sys.argv[2], "%Y-%m-%dT%H:%M:%SZ")), c
assert c["last_failure"] is None and c["last_renewal"] > 0, c' "$T/status.json" "$na" &&
	pass "status --json: certificate.not_after, no failure, last_renewal set" ||
	{ fail "status --json"; cat "$T/status.json"; }

STEPS="est_after_recover est_after_keygen est_csr_sent est_after_answer est_after_check
est_after_cert_new est_after_key_new est_after_key_rename est_after_cert_rename"

# --- renewal inside run, killed ----------------------------------------------
for step in $STEPS; do
	old=$(pub_key "$KEY")
	LAPS_FAULT=$step:kill agent run >"$T/out" 2>&1; rc=$?
	[ $rc -eq 137 ] || { fail "renewal kill at $step: rc $rc (not killed)"; cat "$T/out"; continue; }
	recovered "renewal killed at $step" "$old" "$(new_key "$old")" "$(expect_for "$step")"
	consistent "  after $step"
done

# --- the recovery itself, killed -----------------------------------------------
old=$(pub_key "$KEY")
LAPS_FAULT=est_after_key_new:kill agent run >/dev/null 2>&1
new=$(new_key "$old")
LAPS_FAULT=est_recover_key_removed:kill agent run >"$T/out" 2>&1; rc=$?
[ $rc -eq 137 ] && [ -e "$CRT.new" ] && [ ! -e "$KEY.new" ] &&
	pass "recovery (undoing) killed between its two removals" || { fail "recover kill: rc $rc"; ls -lA "$T/dev"; }
recovered "  then" "$old" "$new" old
consistent "  then"
old=$(pub_key "$KEY")
LAPS_FAULT=est_after_key_rename:kill agent run >/dev/null 2>&1
new=$(new_key "$old")
LAPS_FAULT=est_recover_found:kill agent run >"$T/out" 2>&1; rc=$?
[ $rc -eq 137 ] && [ -e "$CRT.new" ] && pass "recovery (finishing) killed before its rename" ||
	{ fail "recover kill 2: rc $rc"; ls -lA "$T/dev"; }
recovered "  then" "$old" "$new" new
consistent "  then"

# --- renewal inside run, failing ---------------------------------------------
# the run goes on: the rotation in the same run works with the pair left
for step in $STEPS; do
	old=$(pub_key "$KEY")
	if ! LAPS_FAULT=$step:fail rotates rotate; then
		fail "renewal failing at $step: the same run's rotation"; cat "$T/out"; continue
	fi
	got=$(pub_key "$KEY")
	want=$(expect_for "$step")
	if [ "$want" = old ]; then [ "$got" = "$old" ]; else [ "$got" != "$old" ]; fi &&
		pair_ok && grep -q "injected failure at $step" "$T/out" &&
		pass "renewal failing at $step: the $want pair kept, the run's rotation works" ||
		{ fail "renewal fail at $step: want $want (old $old got $got)"; ls -lA "$T/dev"; cat "$T/out"; }
	agent status >"$T/status" 2>&1
	grep -q "last renewal failure: [0-9-]*T[0-9:]*Z: .*injected failure at $step" "$T/status" ||
		{ fail "  status does not show the failure (when, why)"; cat "$T/status"; }
done
consistent "after the failures"
agent status >"$T/status" 2>&1
grep -q "last renewal failure: .*injected failure at est_after_cert_rename (renewed since)" "$T/status" &&
	pass "status: the last failure stays shown, marked as renewed since" || { fail "status after"; cat "$T/status"; }

# --- laps-agent enroll, killed and failing -----------------------------------
# a fresh device (no pair); the admin allows the name again before each try
fresh() {
	rm -f "$T/dev"/*
	[ "$(admin /v1/enrolled-devices/testhost/reenroll '{}')" = 200 ] || { fail "reenroll: $(cat "$T/body")"; }
}
enroll() { agent enroll --token-file "$T/token" "$@"; }
for step in $STEPS; do
	fresh
	LAPS_FAULT=$step:kill enroll >"$T/out" 2>&1; rc=$?
	[ $rc -eq 137 ] || { fail "enroll kill at $step: rc $rc"; cat "$T/out"; continue; }
	new=$(new_key "$NONE")
	LAPS_FAULT=est_after_recover:fail enroll >"$T/out" 2>&1 # recovery only
	if [ "$(expect_for "$step")" = old ]; then
		[ -z "$(ls -A "$T/dev")" ] && pass "enroll killed at $step: nothing left (no pair, nothing staged)" ||
			{ fail "enroll kill at $step: files left"; ls -lA "$T/dev"; }
		fresh # the server may have issued: the name is held until the admin allows it
		enroll >"$T/out" 2>&1 && pair_ok && pass "  rerun enrolls" || { fail "  rerun"; cat "$T/out"; }
	else
		pair_ok && [ "$(pub_key "$KEY")" = "$new" ] &&
			pass "enroll killed at $step: the new pair is whole" ||
			{ fail "enroll kill at $step: pair"; ls -lA "$T/dev"; }
	fi
	LAPS_FAULT=est_after_recover:fail rotates rotate && pair_ok && pass "  and it rotates" ||
		{ fail "  rotation after enroll kill at $step"; cat "$T/out"; }
done
for step in $STEPS; do
	fresh
	LAPS_FAULT=$step:fail enroll >"$T/out" 2>&1; rc=$?
	if [ "$(expect_for "$step")" = old ]; then
		[ $rc -eq 3 ] && [ -z "$(ls -A "$T/dev")" ] &&
			pass "enroll failing at $step: exit 3, nothing written" ||
			{ fail "enroll fail at $step: rc $rc"; ls -lA "$T/dev"; cat "$T/out"; }
	else
		[ $rc -eq 3 ] && pair_ok && pass "enroll failing at $step (after the commit point): exit 3, the new pair whole" ||
			{ fail "enroll fail at $step: rc $rc"; ls -lA "$T/dev"; cat "$T/out"; }
	fi
done
fresh
enroll >"$T/out" 2>&1 && pair_ok && rotates rotate && pair_ok && pass "finally: enroll, run renews and rotates" ||
	{ fail "final"; cat "$T/out"; }
finish
