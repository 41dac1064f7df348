#!/bin/bash
# est_agent_enroll.sh — the agent's own EST client against laps-escrowd:
# `laps-agent enroll` with an enrollment token (a wrong token writes
# nothing; a rerun is refused by the server and changes nothing), a real
# `laps-agent run` rotation with the enrolled pair (invariant verified), the
# renewal inside `run` at 2/3 of the lifetime (not before), a new pair that
# works, a failed renewal (EST off, then the server down) that keeps the old
# pair while the rotation still succeeds, and an expired certificate.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_agent_setup

escrowd_kill
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=est-ca \
	-keyout "$T/pki/estca.key" -out "$T/pki/estca.crt" >/dev/null 2>&1 || exit 99
chmod 600 "$T/pki/estca.key"
cat "$T/pki/ca.crt" "$T/pki/estca.crt" >"$T/pki/clientcas.pem"
sed -i 's|^cert_admins = admin-robot=laps.read,laps.secret,laps.expire$|units = lab:testhost\ncert_admins = admin-robot=laps.read,laps.secret,laps.expire,laps.enroll|' "$T/escrowd.conf"
# both CAs trusted for clients, so that the EST certificate still works when [est] is off
sed -i "s|^client_ca = .*|client_ca = $T/pki/clientcas.pem|" "$T/escrowd.conf"
cp "$T/escrowd.conf" "$T/escrowd.base.conf"
est_on() { # est_on LIFETIME: restart laps-escrowd with [est] (or without it: off)
	escrowd_kill
	cp "$T/escrowd.base.conf" "$T/escrowd.conf"
	[ "$1" = off ] || printf '%s\n' "" "[est]" "ca_cert = $T/pki/estca.crt" \
		"ca_key = $T/pki/estca.key" "lifetime = $1" >>"$T/escrowd.conf"
	: >"$T/escrowd.log"
	escrowd_start
	[ -n "${CRT:-}" ] && agent_conf
}
est_on 1h
admin() { # admin PATH JSON: POST as admin-robot; status on stdout, body in $T/body
	curl -sS --cacert "$T/pki/ca.crt" --cert "$T/pki/admin-robot.crt" --key "$T/pki/admin-robot.key" \
		-H 'Content-Type: application/json' --data-binary "$2" -o "$T/body" -w '%{http_code}' \
		"$ESCROWD_URL$1" 2>/dev/null
}
s=$(admin /v1/enroll-tokens '{"unit":"lab","uses":5,"expires_in":3600}')
[ "$s" = 201 ] || { echo "token: $s"; cat "$T/body"; exit 99; }
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/body" >"$T/token"
chmod 600 "$T/token"; TOKEN=$(cat "$T/token")
sed 's/\.\(.\)/.X\1/' "$T/token" >"$T/badtoken"; chmod 600 "$T/badtoken"

mkdir -p "$T/dev" && chmod 700 "$T/dev"
CRT=$T/dev/agent.crt KEY=$T/dev/agent.key
agent_conf() { # the agent's (and the admin tool's) configuration for the current server URL
	rest_conf mtls
	sed -i "s|^cert_file = .*|cert_file = $CRT|; s|^key_file = .*|key_file = $KEY|" "$T/laps.conf"
	sed -i "s|^\[agent\]$|[agent]\nmetrics_file = $T/metrics.prom|" "$T/laps.conf"
}
agent_conf
pair() { cat "$CRT" "$KEY" 2>/dev/null | sha256sum; }
serial() { openssl x509 -in "$CRT" -noout -serial 2>/dev/null; }
pair_matches() {
	[ "$(openssl x509 -in "$CRT" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$KEY" -pubout 2>/dev/null)" ] &&
		[ -n "$(openssl pkey -in "$KEY" -pubout 2>/dev/null)" ]
}
rotate_ok() { # rotate_ok DESC CMD...
	local desc=$1 before after inv rc; shift
	before=$(record_of)
	agent "$@" >"$T/out" 2>&1; rc=$?
	inv=$(check_rest_invariant); after=$(record_of)
	[ $rc -eq 0 ] && [ "$inv" = "ok current confirmed" ] && [ "$before" != "$after" ] &&
		pass "$desc" || { fail "$desc: rc $rc inv '$inv'"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
}

# --- enroll ----------------------------------------------------------------
agent check-config >"$T/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "does not exist: enroll this device first (laps-agent enroll" "$T/out" &&
	pass "check-config before enrollment: exit 2, says to enroll" || { fail "check-config: rc $rc"; cat "$T/out"; }
agent enroll --token-file "$T/badtoken" >"$T/out" 2>&1; rc=$?
[ $rc -ne 0 ] && [ -z "$(ls -A "$T/dev")" ] && pass "a wrong token: enroll fails (rc $rc), nothing written" ||
	{ fail "wrong token: rc $rc, $(ls -A "$T/dev")"; cat "$T/out"; }
agent enroll --server "$ESCROWD_URL" --ca "$T/pki/ca.crt" --token-file "$T/token" >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && pair_matches && pass "laps-agent enroll with the token: a matching pair" ||
	{ fail "enroll: rc $rc"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
[ "$(stat -c %a "$KEY")" = 600 ] && pass "  the key is 0600" || fail "  key mode $(stat -c %a "$KEY")"
openssl x509 -in "$CRT" -noout -subject | grep -q 'CN *= *testhost' && pass "  CN = the device name" ||
	fail "  subject $(openssl x509 -in "$CRT" -noout -subject)"
openssl verify -CAfile "$T/pki/estca.crt" -purpose sslclient "$CRT" >/dev/null 2>&1 &&
	pass "  issued by the EST CA for client authentication" || fail "  not an EST client certificate"
[ "$(ls -A "$T/dev" | sort | tr '\n' ' ')" = "agent.crt agent.key " ] && pass "  no stray file" ||
	fail "  files: $(ls -A "$T/dev")"
grep -rqF "$TOKEN" "$T/out" "$T/dev" "$T/state" 2>/dev/null && fail "  the token appears in output or files" ||
	pass "  the token is in no output and no file it wrote"

agent check-config >"$T/out" 2>&1 && pass "check-config after enrollment: OK" || { fail "check-config"; cat "$T/out"; }
first_serial=$(serial)
rotate_ok "laps-agent run rotates with the enrolled certificate (invariant holds)" run
[ "$(serial)" = "$first_serial" ] && pass "  a 1h certificate is not renewed yet (before 2/3 of its lifetime)" ||
	fail "  renewed too early"
grep -q cert_renewal "$T/metrics.prom" && fail "  metrics show a renewal" || pass "  metrics: no renewal"

p0=$(pair)
agent enroll --server "$ESCROWD_URL" --ca "$T/pki/ca.crt" --token-file "$T/token" >"$T/out" 2>&1; rc=$?
[ $rc -ne 0 ] && [ "$(pair)" = "$p0" ] && grep -q 409 "$T/out" &&
	pass "enroll again: refused by the server (name held, 409), the pair unchanged" ||
	{ fail "rerun: rc $rc"; cat "$T/out"; }
rotate_ok "  and it still rotates" rotate

# --- renewal -----------------------------------------------------------------
# a re-imaged device: the admin allows re-enrollment; the server now issues
# 60 s certificates (notBefore is backdated 5 min, so 2/3 of the lifetime has
# passed at once)
[ "$(admin /v1/enrolled-devices/testhost/reenroll '{}')" = 200 ] && pass "admin allows re-enrollment" ||
	fail "reenroll: $(cat "$T/body")"
est_on 60s
agent enroll --token-fd 3 3<"$T/token" >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && pair_matches && [ "$(serial)" != "$first_serial" ] &&
	pass "enroll after the admin's permit (token from --token-fd): a new pair" ||
	{ fail "re-enroll: rc $rc"; cat "$T/out"; }
s1=$(serial); k1=$(openssl pkey -in "$KEY" -pubout 2>/dev/null)
cp "$CRT" "$T/A.crt"; cp "$KEY" "$T/A.key"
agent run >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && pair_matches && [ "$(serial)" != "$s1" ] &&
	[ "$(openssl pkey -in "$KEY" -pubout 2>/dev/null)" != "$k1" ] &&
	pass "run renews a certificate past 2/3 of its lifetime: new certificate, new key, a pair" ||
	{ fail "renewal: rc $rc"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
grep -q 'laps_agent_last_run_cert_renewal{result="renewed"} 1' "$T/metrics.prom" &&
	pass "  metrics: renewed" || fail "  metrics: $(grep cert_renewal "$T/metrics.prom")"
[ "$(stat -c %a "$KEY")" = 600 ] && [ -z "$(ls -A "$T/dev" | grep -v '^agent\.\(crt\|key\)$')" ] &&
	pass "  key 0600, no stray file" || fail "  $(ls -lA "$T/dev")"
rotate_ok "  the renewed pair rotates (invariant holds)" rotate

# --- failed renewal ----------------------------------------------------------
# (rotate renews like run does, and always rotates)
est_on off # EST off (404); the certificate is still accepted for /v1
# (with EST off the renewal after the recovery fails, so the pair stays as recovered)
cp "$CRT" "$T/B.crt"; cp "$KEY" "$T/B.key"

# a crash inside the replacement (rest_est.c): after the key's rename (the
# commit point) the next run finishes it; before it, the next run undoes it
cp "$T/B.key" "$KEY"; cp "$T/A.crt" "$CRT"; cp "$T/B.crt" "$CRT.new"
agent run >"$T/out" 2>&1
cmp -s "$CRT" "$T/B.crt" && [ ! -e "$CRT.new" ] && pair_matches &&
	pass "crash after the key's rename: the next run finishes the replacement" ||
	{ fail "roll forward"; cat "$T/out"; }
cp "$T/A.crt" "$CRT.new"; cp "$T/A.key" "$KEY.new"
agent run >"$T/out" 2>&1
cmp -s "$CRT" "$T/B.crt" && cmp -s "$KEY" "$T/B.key" && [ ! -e "$CRT.new" ] && [ ! -e "$KEY.new" ] &&
	pass "crash before the key's rename: the next run undoes it, the old pair stays" ||
	{ fail "roll back"; cat "$T/out"; }
p0=$(pair)
rotate_ok "EST off: the renewal fails, the rotation succeeds with the current pair" rotate
[ "$(pair)" = "$p0" ] && grep -q "renewal failed, keeping the current certificate" "$T/out" &&
	pass "  the pair is kept, the failure logged" || { fail "  pair changed or not logged"; cat "$T/out"; }
grep -q 'laps_agent_last_run_cert_renewal{result="failed"} 1' "$T/metrics.prom" &&
	pass "  metrics: failed" || fail "  metrics: $(grep cert_renewal "$T/metrics.prom")"
escrowd_kill
agent run >"$T/out" 2>&1; rc=$?
[ "$(pair)" = "$p0" ] && pair_matches && grep -q "renewal failed" "$T/out" &&
	pass "server down: the renewal fails (rc $rc), the pair is kept" || { fail "server down"; cat "$T/out"; }

# --- expired -----------------------------------------------------------------
na=$(date -d "$(openssl x509 -in "$CRT" -noout -enddate | cut -d= -f2)" +%s)
now=$(date +%s)
[ "$na" -gt "$now" ] && [ "$((na - now))" -le 120 ] && sleep $((na - now + 1))
est_on 60s
agent run >"$T/out" 2>&1; rc=$?
[ "$(pair)" = "$p0" ] && grep -q "expired; re-enroll" "$T/out" &&
	pass "an expired certificate: a clear error saying to re-enroll, nothing changed" ||
	{ fail "expired: rc $rc"; cat "$T/out"; }
finish
