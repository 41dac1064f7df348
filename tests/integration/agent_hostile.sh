#!/bin/sh
# agent_hostile.sh — laps-agent against a careless or hostile host (issue 16):
# every failure says why in one line, lock files that are FIFOs or symlinks
# are refused without blocking, inputs not owned by root are refused when
# running as root, and no journal temporary outlives a killed run.
. "${top_srcdir:-.}/tests/integration/agent_lib.sh"
need_root
setup lapsadmin shadow

# run_says NAME EXPECTED-RC PATTERN ARGS...: the agent (bounded by timeout)
# exits EXPECTED-RC and prints exactly one line matching PATTERN
run_says() {
	name=$1 want=$2 pat=$3; shift 3
	timeout 30 "$AGENT" -c "$T/laps.conf" "$@" > "$T/out" 2>&1; rc=$?
	n=$(wc -l < "$T/out")
	if [ "$rc" -eq "$want" ] && [ "$n" -eq 1 ] && grep -q -- "$pat" "$T/out"; then
		pass "$name: exit $rc, says: $(cat "$T/out")"
	else
		fail "$name: rc $rc (want $want), $n line(s):"; cat "$T/out"
	fi
}

# ---- 16.6 every failure speaks: state_dir and the run lock ----
agent run >/dev/null 2>&1 || fail "first run"
mv "$T/state" "$T/state.saved"
: > "$T/state"
run_says "state_dir is a regular file" 2 "$T/state.*not a directory" run
rm -f "$T/state"; mv "$T/state.saved" "$T/state"

rm -f "$T/state/lock"; mkfifo -m 0600 "$T/state/lock"
run_says "run lock is a FIFO" 6 "$T/state/lock: not a regular file" run
rm -f "$T/state/lock"; ln -s "$T/elsewhere" "$T/state/lock"
run_says "run lock is a symlink" 6 "$T/state/lock: is a symbolic link" run
[ ! -e "$T/elsewhere" ] && pass "symlinked lock: its target was not created" || fail "symlink followed"
rm -f "$T/state/lock"

# ---- 16.8 no blocking on a FIFO at <root>/etc/.pwd.lock ----
cp "$T/root/etc/shadow" "$T/shadow.0"
rm -f "$T/root/etc/.pwd.lock"; mkfifo -m 0600 "$T/root/etc/.pwd.lock"
run_says "<root>/etc/.pwd.lock is a FIFO" 4 "\.pwd\.lock: not a regular file" rotate
cmp -s "$T/shadow.0" "$T/root/etc/shadow" && pass "FIFO .pwd.lock: shadow untouched" || fail "shadow changed"
[ "$(check_invariant)" = "ok previous pending" ] && pass "FIFO .pwd.lock: escrow pending, previous password kept" ||
	fail "invariant: $(check_invariant)"
rm -f "$T/root/etc/.pwd.lock"
agent run >/dev/null 2>&1 && [ "$(check_invariant)" = "ok current confirmed" ] &&
	pass "FIFO removed: the pending rotation completes" || fail "recovery: $(check_invariant)"

# ---- 16.4 as root, trust only root-owned inputs ----
# refused NAME PATTERN: run and check-config both exit 2 naming the problem
refused() {
	name=$1 pat=$2
	timeout 30 "$AGENT" -c "$T/laps.conf" run > "$T/out" 2>&1; rc=$?
	[ "$rc" -eq 2 ] && grep -q -- "$pat" "$T/out" && pass "$name: run refuses (exit 2): $(head -1 "$T/out")" ||
		{ fail "$name: run rc $rc"; cat "$T/out"; }
	timeout 30 "$AGENT" -c "$T/laps.conf" check-config > "$T/out" 2>&1; rc=$?
	[ "$rc" -eq 2 ] && grep -q -- "$pat" "$T/out" && ! grep -q "^config: .*OK" "$T/out" &&
		pass "$name: check-config reports it (exit 2)" || { fail "$name: check-config rc $rc"; cat "$T/out"; }
}
agent run >/dev/null 2>&1 || fail "baseline run"
cp "$T/root/etc/shadow" "$T/shadow.1"
r0=$("$TOOL" show "$T/laps.conf" lapsadmin)

chown nobody "$T/admin.pub"
refused "recipients key owned by nobody" "recipients: .*admin.pub: not owned by root (uid 65534)"
chown root "$T/admin.pub"; chmod 0666 "$T/admin.pub"
refused "recipients key mode 0666" "recipients: .*admin.pub: group- or world-writable (mode 0666)"
chmod 0644 "$T/admin.pub"
ln -s "$T/admin.pub" "$T/admin.link"; chown -h nobody "$T/admin.link"
write_conf lapsadmin shadow; sed -i "s|^recipients = .*|recipients = $T/admin.link|" "$T/laps.conf"
refused "recipients via a symlink owned by nobody" "admin.link: not owned by root (uid 65534) (the symbolic link itself)"
write_conf lapsadmin shadow

for key in ca_file bind_secret_file cert_file key_file; do
	printf 'x\n' > "$T/$key"; chmod 0600 "$T/$key"
done
write_conf lapsadmin shadow "[ldap]" "ca_file = $T/ca_file" "bind_secret_file = $T/bind_secret_file" \
	"cert_file = $T/cert_file" "key_file = $T/key_file"
if agent check-config > "$T/out" 2>&1; then
	for key in ca_file bind_secret_file cert_file key_file; do
		chown nobody "$T/$key"
		refused "[ldap] $key owned by nobody" "\[ldap\] $key: .*$key: not owned by root"
		chown root "$T/$key"; chmod 0622 "$T/$key"
		refused "[ldap] $key group/world-writable" "\[ldap\] $key: .*$key: group- or world-writable"
		chmod 0600 "$T/$key"
	done
	chown nobody "$T/ca_file" "$T/key_file"
	agent check-config > "$T/out" 2>&1
	[ "$(grep -c 'not owned by root' "$T/out")" -eq 2 ] && pass "check-config lists every refused input" ||
		{ fail "check-config list"; cat "$T/out"; }
	chown root "$T/ca_file" "$T/key_file"
else
	fail "[ldap] file keys with the file backend: $(cat "$T/out")"
fi
write_conf lapsadmin shadow

chown nobody "$T/state"; chmod 0777 "$T/state"
refused "state_dir pre-created 0777 by nobody" "state_dir: .*state: not owned by root (uid 65534)"
chown root "$T/state"
refused "state_dir 0777" "state_dir: .*state: group- or world-writable (mode 0777)"
chmod 0700 "$T/state"

chown nobody "$T/state/lock"
run_says "run lock owned by nobody" 6 "state/lock: not owned by root" run
chown root "$T/state/lock"; chmod 0666 "$T/state/lock"
run_says "run lock mode 0666" 6 "state/lock: group- or world-writable" run
chmod 0600 "$T/state/lock"

# a journal not owned by root is left alone and reported, nothing set from it
cp "$T/state/state.lapsadmin" "$T/state/journal.lapsadmin"
chown nobody "$T/state/journal.lapsadmin"
run_says "journal owned by nobody" 6 "journal.lapsadmin: not owned by root" run
rm -f "$T/state/journal.lapsadmin"

# a usage marker not owned by root is not a use: no post-auth rotation
write_conf lapsadmin shadow "[post-auth]" "delay = 1s"
sleep 1
"$TOOL" marker "$T/laps.conf" lapsadmin "$(date +%s)"
chown nobody "$T/state/used/lapsadmin"
sleep 2
timeout 30 "$AGENT" -c "$T/laps.conf" run --post-auth-only > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q "used/lapsadmin: not owned by root" "$T/out" &&
	[ "$("$TOOL" show "$T/laps.conf" lapsadmin)" = "$r0" ] &&
	pass "marker owned by nobody: ignored with a warning, no rotation" || { fail "marker: rc $rc"; cat "$T/out"; }
cmp -s "$T/shadow.1" "$T/root/etc/shadow" && pass "after all refusals: shadow untouched" || fail "shadow changed"
write_conf lapsadmin shadow
agent run >/dev/null 2>&1 && [ "$(check_invariant)" = "ok current confirmed" ] &&
	pass "everything root-owned again: runs" || fail "final run: $(check_invariant)"

finish
