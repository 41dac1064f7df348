#!/bin/sh
# agent_pam_unix.sh — the pam method with the real pam_unix, inside a
# private mount namespace where a copy of /etc is bind-mounted over /etc
# (the machine's real /etc is never touched).
. "${top_srcdir:-.}/tests/integration/agent_lib.sh"
need_root
command -v unshare >/dev/null || { echo "SKIP: no unshare"; exit 77; }
unshare --mount true 2>/dev/null || { echo "SKIP: unshare --mount not permitted"; exit 77; }
pam_unix=
for d in /lib/x86_64-linux-gnu/security /usr/lib/x86_64-linux-gnu/security /lib/security \
	 /usr/lib/security /lib64/security /usr/lib64/security; do
	[ -e "$d/pam_unix.so" ] && { pam_unix=$d/pam_unix.so; break; }
done
[ -n "$pam_unix" ] || { echo "SKIP: pam_unix.so not found"; exit 77; }

cp -a /etc "$T/etc"
grep -q '^lapsadmin:' "$T/etc/passwd" || {
	echo "lapsadmin:x:4242:4242::/nonexistent:/usr/sbin/nologin" >> "$T/etc/passwd"
	echo "lapsadmin:x:4242:" >> "$T/etc/group"
	echo "lapsadmin:*:19700:0:99999:7:::" >> "$T/etc/shadow"
}
# issue 13: a locked, a fresh and an expired account through pam_unix
for a in lockpam:4243 freshpam:4244 exppam:4245; do
	n=${a%%:*} u=${a#*:}
	grep -q "^$n:" "$T/etc/passwd" && continue
	echo "$n:x:$u:$u::/nonexistent:/usr/sbin/nologin" >> "$T/etc/passwd"
	echo "$n:x:$u:" >> "$T/etc/group"
done
grep -q '^lockpam:' "$T/etc/shadow" || {
	echo 'lockpam:!$6$lk$SomeLockedHashValue:19700:0:99999:7:::' >> "$T/etc/shadow"
	echo 'freshpam:!:19700:0:99999:7:::' >> "$T/etc/shadow"
	echo 'exppam:$6$ex$SomeExpiredHashValue:19700:0:99999:7::1:' >> "$T/etc/shadow"
}
cat > "$T/etc/pam.d/laps" <<EOP
auth      required  $pam_unix
account   required  $pam_unix
password  required  $pam_unix yescrypt
session   required  pam_permit.so
EOP
mkdir -p "$T/state" && chmod 0700 "$T/state"
"$TOOL" keygen "$T" || exit 99
write_conf lapsadmin pam
sed -i '/^root = /d' "$T/laps.conf"
write_conf "lockpam freshpam exppam" pam
sed -i '/^root = /d' "$T/laps.conf"
mv "$T/laps.conf" "$T/states.conf"
write_conf lapsadmin pam
sed -i '/^root = /d' "$T/laps.conf"

cat > "$T/inner.sh" <<EOS
set -e
mount --bind "$T/etc" /etc
"$AGENT" -c "$T/laps.conf" run
grep '^lapsadmin:' /etc/shadow | cut -d: -f2 | cut -c1-3 > "$T/prefix"
"$TOOL" check "$T/laps.conf" "$T/admin.key" lapsadmin > "$T/check1"
"$TOOL" expire "$T/laps.conf" lapsadmin
"$AGENT" -c "$T/laps.conf" run
"$TOOL" check "$T/laps.conf" "$T/admin.key" lapsadmin > "$T/check2"
"$AGENT" -c "$T/states.conf" run > "$T/states.out" 2>&1 || echo "states run failed" >> "$T/states.out"
for a in lockpam freshpam exppam; do
	echo "\$a \$("$TOOL" check "$T/states.conf" "$T/admin.key" \$a)" >> "$T/states.check"
	grep "^\$a:" /etc/shadow | cut -d: -f2,8 | sed "s/^/\$a /; s/[$][6y][$][^:]*:/HASH:/" >> "$T/states.shadow"
done
EOS
cp /etc/shadow "$T/real-shadow-before"
unshare --mount sh "$T/inner.sh" > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && pass "agent ran with pam_unix in a private namespace" || { fail "inner rc $rc"; cat "$T/out"; }
[ "$(cat "$T/check1" 2>/dev/null)" = "ok current confirmed" ] &&
	[ "$(cat "$T/check2" 2>/dev/null)" = "ok current confirmed" ] &&
	pass "pam_unix: escrowed password verifies against the hash pam_unix wrote (twice)" ||
	fail "check: $(cat "$T/check1" "$T/check2" 2>&1)"
[ "$(cat "$T/prefix" 2>/dev/null)" = '$y$' ] && pass "pam_unix wrote a yescrypt hash" || fail "prefix $(cat "$T/prefix")"
[ "$(cat "$T/states.check" 2>/dev/null)" = "lockpam ok current confirmed
freshpam ok current confirmed
exppam ok current confirmed" ] && pass "pam_unix: locked, fresh and expired accounts rotated, escrow verifies" ||
	{ fail "pam_unix states: $(cat "$T/states.check" "$T/states.out" 2>&1)"; }
[ "$(cat "$T/states.shadow" 2>/dev/null)" = "lockpam !HASH:
freshpam HASH:
exppam HASH:1" ] && pass "pam_unix: locked stays locked (re-locked), fresh gets a password, expired stays expired" ||
	fail "pam_unix states shadow: $(cat "$T/states.shadow")"
cmp -s /etc/shadow "$T/real-shadow-before" && ! grep -q '^lapsadmin:\$' /etc/shadow &&
	pass "the machine's /etc/shadow is untouched" || fail "REAL /etc/shadow changed"
finish
