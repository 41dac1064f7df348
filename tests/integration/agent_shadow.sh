#!/bin/sh
# agent_shadow.sh — laps-agent with the shadow method on an alternate root
# and the file backend: what rotates when, what stays byte-for-byte, exit
# codes and messages on failure.
. "${top_srcdir:-.}/tests/integration/agent_lib.sh"
need_root
setup lapsadmin shadow
today=$(( $(date +%s) / 86400 ))

# ---- first run: no record -> rotation ----
cp "$T/root/etc/shadow" "$T/shadow.0"
shadow_others lapsadmin > "$T/others.0"
agent run > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && pass "first run rotates (exit 0)" || { fail "first run rc $rc"; cat "$T/out"; }
[ "$(check_invariant)" = "ok current confirmed" ] && pass "escrow decrypts to the new password (crypt_r)" \
	|| fail "invariant after first run: $(check_invariant)"
shadow_others lapsadmin > "$T/others.1"
cmp -s "$T/others.0" "$T/others.1" && pass "other shadow lines byte-identical" || fail "other lines changed"
line=$(shadow_line lapsadmin)
# only fields 2 (hash) and 3 (last change) differ
old=$(grep '^lapsadmin:' "$T/shadow.0")
[ "$(echo "$line" | cut -d: -f1,4-)" = "$(echo "$old" | cut -d: -f1,4-)" ] &&
	pass "fields 1,4-9 of the target line unchanged" || fail "other fields changed: $line"
[ "$(echo "$line" | cut -d: -f3)" = "$today" ] && pass "last-change day = today" || fail "lastchg: $line"
case $(echo "$line" | cut -d: -f2) in '$6$rounds=1000$'*) pass "hash is sha512 with the configured cost";; *) fail "hash: $line";; esac
[ "$(stat -c %a "$T/root/etc/shadow")" = 640 ] && pass "shadow mode kept" || fail "shadow mode"
[ "$(stat -c %a "$T/state/state.lapsadmin")" = 600 ] && pass "state file 0600" || fail "state mode"
[ ! -e "$T/state/journal.lapsadmin" ] && pass "no journal after success" || fail "journal left"

# ---- nothing due: silent ----
cp "$T/root/etc/shadow" "$T/shadow.1"
out=$(agent run 2>&1); rc=$?
[ "$rc" -eq 0 ] && [ -z "$out" ] && pass "run is silent and exits 0 when nothing is due" ||
	fail "nothing due: rc $rc out '$out'"
cmp -s "$T/shadow.1" "$T/root/etc/shadow" && pass "nothing due: shadow untouched" || fail "shadow changed"
out=$(agent run --post-auth-only 2>&1); rc=$?
[ "$rc" -eq 0 ] && [ -z "$out" ] && pass "run --post-auth-only silent" || fail "post-auth-only: $rc $out"

# ---- libraries loaded only when used (agent/dynlib.h) ----
# the shared objects the dynamic loader opened in one run
loaded() { LD_DEBUG=files agent "$@" 2>&1 >/dev/null | sed -n 's/.*file=\([^ ]*\) .*/\1/p' | sort -u; }
# a sanitizer build links libcrypt up front (configure.ac: SANITIZER_LIBCRYPT)
asan=$(readelf -d "$AGENT" | grep -c 'NEEDED.*libasan')
nolib='libcrypt\.so\|libpam\.so'
[ "$asan" = 0 ] || nolib='libpam\.so'
[ "$(readelf -d "$AGENT" | grep -c "NEEDED.*\($nolib\)")" = 0 ] &&
	pass "laps-agent links neither libpam nor libcrypt (libcrypt: not in a sanitizer build)" ||
	fail "laps-agent links libpam or libcrypt"
loaded run >"$T/libs"
grep -q 'libsodium' "$T/libs" && ! grep -q "$nolib" "$T/libs" &&
	pass "nothing due: neither libcrypt nor libpam loaded" || { fail "nothing due loads:"; cat "$T/libs"; }
cp "$T/root/etc/shadow" "$T/shadow.1"
loaded rotate >"$T/libs"
grep -q 'libcrypt\.so\.1' "$T/libs" && ! grep -q 'libpam\.so' "$T/libs" &&
	! cmp -s "$T/shadow.1" "$T/root/etc/shadow" && [ "$(check_invariant)" = "ok current confirmed" ] &&
	pass "a shadow rotation loads libcrypt (not libpam) and rotates" || { fail "rotation loads:"; cat "$T/libs"; }

# libcrypt missing (hidden by an empty file in a private mount namespace):
# a configuration error before anything is escrowed or written
lib=$(ldconfig -p | awk '/libcrypt\.so\.1 .*x86-64|libcrypt\.so\.1 \(/ { print $NF; exit }')
if [ "$asan" = 0 ] && [ -n "$lib" ] && unshare --mount true 2>/dev/null; then
	r0=$("$TOOL" show "$T/laps.conf" lapsadmin)
	cp "$T/root/etc/shadow" "$T/shadow.1"
	unshare --mount sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$lib" \
		"$AGENT" -c "$T/laps.conf" rotate >"$T/out" 2>&1; rc=$?
	[ $rc -eq 2 ] && grep -q "method = shadow needs libcrypt.so.1" "$T/out" &&
		cmp -s "$T/shadow.1" "$T/root/etc/shadow" && [ "$("$TOOL" show "$T/laps.conf" lapsadmin)" = "$r0" ] &&
		[ ! -e "$T/state/journal.lapsadmin" ] &&
		pass "libcrypt missing: exit 2, named, nothing escrowed or changed" || { fail "libcrypt missing: rc $rc"; cat "$T/out"; }
	unshare --mount sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$lib" \
		"$AGENT" -c "$T/laps.conf" check-config >"$T/out" 2>&1; rc=$?
	[ $rc -eq 2 ] && grep -q "needs libcrypt.so.1" "$T/out" && pass "libcrypt missing: check-config says so (exit 2)" ||
		{ fail "check-config without libcrypt: rc $rc"; cat "$T/out"; }
else
	echo "# skipped: sanitizer build or no private mount namespace (libcrypt missing case)"
fi

# ---- expire now (backend expiry in the past) ----
r0=$("$TOOL" show "$T/laps.conf" lapsadmin)
"$TOOL" expire "$T/laps.conf" lapsadmin
agent run >/dev/null 2>&1; rc=$?
r1=$("$TOOL" show "$T/laps.conf" lapsadmin)
[ "$rc" -eq 0 ] && [ "$r0" != "$r1" ] && ! cmp -s "$T/shadow.1" "$T/root/etc/shadow" &&
	[ "$(check_invariant)" = "ok current confirmed" ] &&
	pass "expire-now makes run rotate" || fail "expire-now: rc $rc $r0 -> $r1"

# ---- local hash changed behind the agent's back ----
sed -i 's|^lapsadmin:[^:]*:|lapsadmin:$6$changed$byhand:|' "$T/root/etc/shadow"
agent -v run > "$T/out" 2>&1; rc=$?
r2=$("$TOOL" show "$T/laps.conf" lapsadmin)
[ "$rc" -eq 0 ] && [ "$r2" != "$r1" ] && grep -q "local-hash-changed" "$T/out" &&
	[ "$(check_invariant)" = "ok current confirmed" ] &&
	pass "changed local hash makes run rotate" || { fail "hash change: rc $rc"; cat "$T/out"; }

# ---- a record with another rotation id (rollback / tampering) ----
"$TOOL" tamper "$T/laps.conf" lapsadmin || fail "tamper helper"
agent -v run > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q "rotation-id-mismatch" "$T/out" &&
	[ "$(check_invariant)" = "ok current confirmed" ] &&
	pass "different rotation id makes run rotate" || { fail "rotid: rc $rc"; cat "$T/out"; }

# ---- status ----
agent status > "$T/out" 2>&1 && grep -q "escrow (backend): confirmed" "$T/out" &&
	grep -q "pending journal: none" "$T/out" && pass "status (text)" || { fail "status"; cat "$T/out"; }
agent status --json > "$T/status.json" 2>&1 &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d["accounts"][0]; assert a["record_state"]=="confirmed" and a["last_rotation_id"]==a["record_rotation_id"] and a["backend_reachable"]' "$T/status.json" &&
	pass "status --json" || { fail "status --json"; cat "$T/status.json"; }
agent check-config > "$T/out" 2>&1 && grep -q "^entropy: [0-9.]* bits" "$T/out" &&
	grep -q "^policy: " "$T/out" && pass "check-config prints policy and entropy" ||
	{ fail "check-config"; cat "$T/out"; }

# ---- escrow failure: backend directory cannot be created ----
cp "$T/root/etc/shadow" "$T/shadow.2"
: > "$T/notadir"
write_conf lapsadmin shadow
sed -i "s|^dir = .*|dir = $T/notadir/escrow|" "$T/laps.conf"
agent rotate > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 3 ] && pass "unreachable backend: exit 3" || { fail "unreachable backend rc $rc"; cat "$T/out"; }
grep -q "backend 'file'" "$T/out" && grep -qi "notadir" "$T/out" &&
	pass "message names the backend and the cause" || { fail "message"; cat "$T/out"; }
cmp -s "$T/shadow.2" "$T/root/etc/shadow" && pass "local password untouched" || fail "shadow changed on escrow failure"
[ ! -e "$T/state/journal.lapsadmin" ] && pass "no journal after escrow failure" || fail "journal left"
grep -q "^last_error=cannot read the escrow from backend .file." "$T/state/state.lapsadmin" && pass "last error recorded in the state file" ||
	fail "last_error: $(cat "$T/state/state.lapsadmin")"

# ---- escrow failure on write (read works): history slot blocked ----
write_conf lapsadmin shadow
hist=$(ls -d "$T/escrow/testhost/lapsadmin.history" 2>/dev/null)
if [ -n "$hist" ]; then
	mv "$hist" "$T/hist.saved" && : > "$hist"
	agent rotate > "$T/out" 2>&1; rc=$?
	[ "$rc" -eq 3 ] && cmp -s "$T/shadow.2" "$T/root/etc/shadow" &&
		[ "$(check_invariant)" = "ok current confirmed" ] &&
		pass "backend write failure: exit 3, local untouched" || { fail "write failure rc $rc"; cat "$T/out"; }
	rm -f "$hist"; mv "$T/hist.saved" "$hist"
else
	echo "# file backend layout unknown: write-failure case skipped"
fi

# ---- escrow failure: LDAP backend, nothing listening ----
printf 'secret\n' > "$T/bind.secret"; chmod 0600 "$T/bind.secret"
write_conf lapsadmin shadow "[ldap]" "uri = ldap://127.0.0.1:9" "tls = none" \
	"bind_dn = cn=agent,dc=example,dc=org" "bind_secret_file = $T/bind.secret" \
	"dn = cn=testhost,dc=example,dc=org" "timeout = 2s"
sed -i 's/^backend = file$/backend = ldap/' "$T/laps.conf"
agent rotate > "$T/out" 2>&1; rc=$?
if grep -q "unknown backend" "$T/out"; then
	echo "# ldap backend not compiled in: case skipped"
else
	[ "$rc" -eq 3 ] && grep -qi "ldap" "$T/out" && cmp -s "$T/shadow.2" "$T/root/etc/shadow" &&
		[ ! -e "$T/state/journal.lapsadmin" ] &&
		pass "unreachable LDAP: exit 3, names ldap, local untouched" ||
		{ fail "unreachable ldap rc $rc"; cat "$T/out"; }
fi

# ---- a fresh account ('!*', usermod -L of '*'): rotated, gets a password ----
# (every lock/expiry state x method x backend: agent_accounts.sh)
write_conf lockedadm shadow
agent run > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && [ "$(check_invariant lockedadm)" = "ok current confirmed" ] &&
	pass "fresh '!*' account rotated (exit 0, escrow verifies)" || { fail "fresh: rc $rc"; cat "$T/out"; }
grep -q '^lockedadm:\$6\$' "$T/root/etc/shadow" && pass "fresh account has its first password" ||
	fail "fresh account: $(shadow_line lockedadm)"

# ---- missing account ----
write_conf ghost shadow
agent run > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 4 ] && grep -q "ghost" "$T/out" && pass "missing account: exit 4 naming it" ||
	{ fail "missing: rc $rc"; cat "$T/out"; }

# ---- usage and config errors ----
agent frobnicate >/dev/null 2>&1; [ $? -eq 1 ] && pass "usage error: exit 1" || fail "usage exit"
agent rotate --account nobody-managed >/dev/null 2>&1; [ $? -eq 1 ] && pass "unmanaged --account: exit 1" || fail "account exit"
echo "bogus = 1" >> "$T/laps.conf"
agent run >/dev/null 2>&1; [ $? -eq 2 ] && pass "config error: exit 2" || fail "config exit"

# ---- several accounts, rotate --account ----
write_conf "lapsadmin admin2" shadow
"$TOOL" expire "$T/laps.conf" lapsadmin
agent run > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && [ "$(check_invariant lapsadmin)" = "ok current confirmed" ] &&
	[ "$(check_invariant admin2)" = "ok current confirmed" ] && [ -e "$T/state/state.admin2" ] &&
	pass "two accounts rotated, each with its own state" || { fail "multi: rc $rc"; cat "$T/out"; }
a1=$("$TOOL" show "$T/laps.conf" lapsadmin); b1=$("$TOOL" show "$T/laps.conf" admin2)
agent rotate --account admin2 >/dev/null 2>&1
a2=$("$TOOL" show "$T/laps.conf" lapsadmin); b2=$("$TOOL" show "$T/laps.conf" admin2)
[ "$a1" = "$a2" ] && [ "$b1" != "$b2" ] && [ "$(check_invariant admin2)" = "ok current confirmed" ] &&
	pass "rotate --account rotates only that account" || fail "rotate --account"

# ---- post-authentication ----
write_conf lapsadmin shadow "[post-auth]" "delay = 1h"
agent rotate >/dev/null 2>&1
rot=$(sed -n 's/^rotated_at=//p' "$T/state/state.lapsadmin")
# use before the last rotation: not due
"$TOOL" marker "$T/laps.conf" lapsadmin $((rot - 100))
r0=$("$TOOL" show "$T/laps.conf" lapsadmin)
out=$(agent run --post-auth-only 2>&1)
[ "$("$TOOL" show "$T/laps.conf" lapsadmin)" = "$r0" ] && [ -z "$out" ] &&
	pass "post-auth: use before the last rotation is ignored" || fail "post-auth old marker: $out"
# used after the rotation, deadline (use + 1h) not reached: not due
sleep 1
"$TOOL" marker "$T/laps.conf" lapsadmin $((rot + 1))
out=$(agent run --post-auth-only 2>&1)
[ "$("$TOOL" show "$T/laps.conf" lapsadmin)" = "$r0" ] && [ -z "$out" ] &&
	pass "post-auth: deadline in the future: not due" || fail "post-auth future: $out"
agent status | grep -q "post-auth rotation due" && pass "status shows the post-auth deadline" || fail "status deadline"
# deadline passed (use 2h ago relative to the delay: shrink the delay)
write_conf lapsadmin shadow "[post-auth]" "delay = 1s"
sleep 2
agent run --post-auth-only > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && [ "$("$TOOL" show "$T/laps.conf" lapsadmin)" != "$r0" ] &&
	grep -q "used via sshd by alice@192.0.2.7 on pts/0" "$T/out" &&
	[ "$(check_invariant)" = "ok current confirmed" ] &&
	pass "post-auth: deadline passed: rotated, log names who used it" || { fail "post-auth due: rc $rc"; cat "$T/out"; }
out=$(agent run --post-auth-only 2>&1)
[ -z "$out" ] && pass "post-auth: not repeated after the rotation" || fail "post-auth repeat: $out"
# reset-reboot: the shutdown command (dry-run script in fault-injection builds)
if "$AGENT" --version | grep -q fault-injection; then
	printf '#!/bin/sh\necho "$@" > %s/shutdown.args\n' "$T" > "$T/shutdown"; chmod 0755 "$T/shutdown"
	write_conf lapsadmin shadow "[post-auth]" "delay = 1s" "action = reset-reboot"
	sleep 1
	"$TOOL" marker "$T/laps.conf" lapsadmin "$(date +%s)"
	sleep 2
	LAPS_TEST_SHUTDOWN="$T/shutdown" agent run > "$T/out" 2>&1; rc=$?
	[ "$rc" -eq 0 ] && grep -q "^-r +1 " "$T/shutdown.args" 2>/dev/null &&
		pass "reset-reboot runs shutdown -r +1" || { fail "reset-reboot rc $rc"; cat "$T/out"; }
fi
finish
