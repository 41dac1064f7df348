#!/bin/sh
# tests/integration/pam_postauth.sh — end to end: pam_laps records a session
# of the managed account, `laps-agent run --post-auth-only` rotates the
# account's password once [post-auth] delay has passed since that use, and
# with action = reset-logoff ends the account's processes.
#
# Needs root: the agent uses the shadow method on an alternate root (never
# the machine's /etc), and the PAM session runs in a private mount namespace
# (unshare --mount) where a copy of /etc/passwd that contains the test
# account is bind-mounted over /etc/passwd, so that pam_laps' getpwnam_r()
# finds it; the real /etc is never modified.  The test account has uid
# 424242 (refused if anything on the machine uses that uid), so that ending
# "its" processes can never hit a real user's.
# Skips (77) without root, pam_wrapper/libpamtest, laps-agent or its test
# helper, unshare or setpriv.
# PAM_POSTAUTH_BACKEND=rest (pam_postauth_rest.sh): the same through
# backend = rest against a real laps-escrowd, the device by its client
# certificate, the invariant read back by an admin certificate.
[ "${PAM_POSTAUTH_BACKEND:-file}" = file ] || [ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
top_builddir=$(cd "$top_builddir" && pwd) || exit 99
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 99
export top_builddir top_srcdir
# a uid of its own per variant: make check runs the variants in parallel and
# reset-logoff kills every process of the uid
TUID=${PAM_POSTAUTH_UID:-424242}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for f in laps-agent tests/unit/test_agent_tool tests/unit/test_pam_laps; do
	[ -x "$top_builddir/$f" ] || { echo "SKIP: $f not built"; exit 77; }
done
for t in unshare setpriv getent; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found"; exit 77; }
done
if getent passwd "$TUID" >/dev/null; then
	echo "SKIP: uid $TUID exists on this machine"
	exit 77
fi
if grep -qs "^Uid:[[:space:]]*$TUID[[:space:]]" /proc/[0-9]*/status; then
	echo "SKIP: a process runs as uid $TUID"
	exit 77
fi

# shellcheck source=tests/integration/agent_lib.sh
. "$top_srcdir/tests/integration/agent_lib.sh"

keeper=
victim=
stop_victim() {
	[ -n "$keeper" ] && kill -9 "$keeper" 2>/dev/null
	[ -n "$victim" ] && kill -9 "$victim" 2>/dev/null
	keeper= victim=
}
trap 'stop_victim; cleanup' EXIT
trap 'exit 99' HUP INT TERM

# postauth_conf DELAY: $T/laps.conf with [post-auth] delay = DELAY
if [ "${PAM_POSTAUTH_BACKEND:-file}" = rest ]; then
	. "$top_srcdir/tests/integration/rest_lib.sh"
	trap 'stop_victim; rest_cleanup' EXIT
	rest_setup
	ESCROW_ADMIN_CONF=$T/admin.conf
	postauth_conf() {
		rest_conf mtls
		printf '%s\n' "[post-auth]" "delay = $1" "action = reset-logoff" >>"$T/laps.conf"
	}
else
	postauth_conf() { write_conf lapsadmin shadow "[post-auth]" "delay = $1" "action = reset-logoff"; }
fi

# Alternate root and config (agent_lib.sh), with the account at uid $TUID.
make_root "$T/root"
mkdir -p "$T/state" && chmod 0700 "$T/state"
"$TOOL" keygen "$T" >/dev/null || exit 99
postauth_conf 1h
sed -i "s/^lapsadmin:x:1001:1001:/lapsadmin:x:$TUID:$TUID:/" "$T/root/etc/passwd"
grep -q "^lapsadmin:x:$TUID:" "$T/root/etc/passwd" || { echo "setup failed"; exit 99; }
# The passwd that NSS sees inside the session's mount namespace.
{ grep -v '^lapsadmin:' /etc/passwd; echo "lapsadmin:x:$TUID:$TUID::/nonexistent:/usr/sbin/nologin"; } \
	> "$T/nss-passwd"
chmod 0644 "$T/nss-passwd"

# pam_session open|close: a session of lapsadmin through pam_laps
# (tests/unit/test_pam_laps in its e2e mode, under pam_wrapper).
pam_session() {
	PAM_LAPS_E2E_USER=lapsadmin PAM_LAPS_E2E_CONF=$T/laps.conf PAM_LAPS_E2E_STATE=$T/state \
	PAM_LAPS_E2E_OP=$1 unshare --mount --propagation private sh -c '
		mount --bind "$0" /etc/passwd || exit 99
		getent passwd lapsadmin >/dev/null || { echo "SKIP: NSS does not read /etc/passwd"; exit 77; }
		exec sh "$1"' "$T/nss-passwd" "$top_srcdir/tests/integration/pam_laps.sh" > "$T/pam.out" 2>&1
}

# 1. the first run escrows and sets an initial password (no record yet)
if agent run > "$T/run1.out" 2>&1; then pass "initial run"; else fail "initial run"; cat "$T/run1.out"; fi
h1=$(shadow_line lapsadmin)
case $h1 in lapsadmin:\$6\$*) pass "initial password set" ;; *) fail "initial password: $h1" ;; esac

# 2. a session of lapsadmin opens: pam_laps writes the marker.  Times are
# in seconds and the agent counts a use in the second of its last rotation
# as older than that rotation: open the session in a later second.
sleep 1
pam_session open
rc=$?
[ "$rc" = 77 ] && { grep SKIP "$T/pam.out"; exit 77; }
if [ "$rc" = 0 ]; then pass "session opened and recorded"; else fail "session open (rc $rc)"; cat "$T/pam.out"; fi
if grep -qx "uid=$TUID" "$T/state/used/lapsadmin" 2>/dev/null; then
	pass "marker written with uid $TUID"
else
	fail "marker"; cat "$T/state/used/lapsadmin"
fi

# 3. a process of the account (its parent, root, reaps it when it dies)
sh -c 'setpriv --reuid="$0" --regid="$0" --clear-groups sleep 600 & echo $! > "$1"; wait' \
	"$TUID" "$T/victim.pid" &
keeper=$!
i=0
while [ $i -lt 50 ]; do
	victim=$(cat "$T/victim.pid" 2>/dev/null)
	[ -n "$victim" ] && grep -qs "^Uid:[[:space:]]*$TUID[[:space:]]" "/proc/$victim/status" && break
	i=$((i + 1)); sleep 0.1
done
grep -qs "^Uid:[[:space:]]*$TUID[[:space:]]" "/proc/$victim/status" || { echo "victim did not start"; exit 99; }

# 4. delay 1h has not passed: nothing happens
if agent run --post-auth-only > "$T/run2.out" 2>&1; then pass "post-auth run (not due)"; else fail "post-auth run (not due)"; cat "$T/run2.out"; fi
[ "$(shadow_line lapsadmin)" = "$h1" ] && pass "password kept before the delay" || fail "rotated before the delay"
[ -d "/proc/$victim" ] && pass "process kept before the delay" || fail "process killed before the delay"

# 5. delay 1s, passed: rotated, escrowed, and the account's processes ended
postauth_conf 1s
sleep 2
if agent -v run --post-auth-only > "$T/run3.out" 2>&1; then pass "post-auth run (due)"; else fail "post-auth run (due)"; cat "$T/run3.out"; fi
h2=$(shadow_line lapsadmin)
[ "$h2" != "$h1" ] && pass "password rotated after the delay" || fail "password not rotated"
if grep -q "backend ${PAM_POSTAUTH_BACKEND:-file})" "$T/run3.out"; then
	pass "escrowed through backend ${PAM_POSTAUTH_BACKEND:-file}"
else
	fail "not escrowed through ${PAM_POSTAUTH_BACKEND:-file}"; cat "$T/run3.out"
fi
if check_invariant > "$T/check.out" 2>&1; then pass "escrow holds the new password ($(cat "$T/check.out"))"; else fail "invariant"; cat "$T/check.out"; fi
if grep -q "post-authentication rotation" "$T/run3.out" && grep -q "192.0.2.10" "$T/run3.out"; then
	pass "agent logged the use recorded by pam_laps"
else
	fail "agent log"; cat "$T/run3.out"
fi
i=0
while [ $i -lt 200 ] && [ -d "/proc/$victim" ]; do i=$((i + 1)); sleep 0.1; done
if [ ! -d "/proc/$victim" ]; then
	pass "process of the account ended (reset-logoff)"
	wait "$keeper" 2>/dev/null
	keeper= victim=
else
	fail "process still alive"
	stop_victim
fi

# 6. the session closes: the logout is recorded.  (With
# PAM_POSTAUTH_CLOSE_AFTER_ROTATION, from pam_postauth_close.sh, the close
# happens in a later second than the rotation, and step 7 runs.)
[ -n "${PAM_POSTAUTH_CLOSE_AFTER_ROTATION:-}" ] && sleep 1
pam_session close
rc=$?
if [ "$rc" = 0 ]; then pass "session close recorded"; else fail "session close (rc $rc)"; cat "$T/pam.out"; fi
grep -q '^closed=[1-9]' "$T/state/used/lapsadmin" && pass "closed time set" || fail "closed time"

# 7. the close of a session that was open across the rotation (here: ended
# by reset-logoff) is not a new use of the new password: no second rotation
# (and no second logoff or reboot) once the delay has passed again.
if [ -n "${PAM_POSTAUTH_CLOSE_AFTER_ROTATION:-}" ]; then
	h3=$(shadow_line lapsadmin)
	sleep 2
	agent -v run --post-auth-only > "$T/run4.out" 2>&1 || fail "post-auth run after the close"
	if [ "$(shadow_line lapsadmin)" = "$h3" ]; then
		pass "no second rotation for the close"
	else
		fail "rotated again because the ended session closed"; cat "$T/run4.out"
	fi
fi

finish
