# agent_lib.sh — shared setup for the laps-agent shell tests (sourced).
# A throw-away alternate root with etc/passwd + etc/shadow, an admin key
# pair, a file-backend escrow, and a config; everything under one temp dir.
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
AGENT=$top_builddir/laps-agent
TOOL=$top_builddir/tests/unit/test_agent_tool

need_root() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
}
need_fault_injection() {
	"$AGENT" --version | grep -q fault-injection ||
		{ echo "SKIP: laps-agent built without --enable-fault-injection"; exit 77; }
}

[ -x "$AGENT" ] || { echo "laps-agent not built: $AGENT"; exit 99; }
[ -x "$TOOL" ] || { echo "helper not built: $TOOL"; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/laps-agent-test.XXXXXX") || exit 99
cleanup() { rm -rf "$T"; }
trap cleanup EXIT

fails=0
pass() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
finish() { [ "$fails" -eq 0 ] && { echo "all passed"; exit 0; }; echo "$fails failure(s)"; exit 1; }

# make_root DIR: passwd/shadow/group/gshadow with lapsadmin, admin2,
# accounts in every lock/expiry state and bystanders
make_root() {
	mkdir -p "$1/etc" && chmod 0755 "$1/etc"
	cat > "$1/etc/passwd" <<'EOP'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/bash
lapsadmin:x:1001:1001::/home/lapsadmin:/bin/bash
admin2:x:1002:1002::/home/admin2:/bin/bash
lockedadm:x:1003:1003::/home/lockedadm:/bin/bash
fresh1:x:1011:1011::/home/fresh1:/bin/bash
fresh2:x:1012:1012::/home/fresh2:/bin/bash
fresh3:x:1013:1013::/home/fresh3:/bin/bash
locked1:x:1014:1014::/home/locked1:/bin/bash
expired1:x:1015:1015::/home/expired1:/bin/bash
EOP
	cat > "$1/etc/shadow" <<'EOS'
root:$y$j9T$OsZQ7x6Z2Wq5mE1uUdN0h/$0u8eO2vY3Q1YkYyZ6mVb6o3H4yQ9eM8a1w9y0ZkQ2y5:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
alice:$6$saltsalt$L8oMuv7pOqH0yL3xXl0s2bYV5t3jQ7B2b1f1O4yH8Xb1Jc2zWmQm1nB2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q:19701:0:99999:7:::
lapsadmin:*:19702:0:99999:7:::
admin2:*:19703:0:99999:7:::
lockedadm:!*:19704:0:99999:7:::
fresh1:!:19705:0:99999:7:::
fresh2:!!:19706:0:99999:7:::
fresh3:*:19707:0:99999:7:::
locked1:!$6$lk$NotTheEscrowedOneJustALockedHash:19708:0:99999:7:::
expired1:$6$ex$SomeOldHashOfAnExpiredAccount:19709:0:99999:7::1:
EOS
	cat > "$1/etc/group" <<'EOG'
root:x:0:
daemon:x:1:
sudo:x:27:alice
wheel:x:10:
alice:x:1000:
lapsadmin:x:1001:
EOG
	cat > "$1/etc/gshadow" <<'EOG'
root:*::
daemon:*::
sudo:*::alice
wheel:*::
alice:!::
lapsadmin:!::
EOG
	chmod 0644 "$1/etc/passwd" "$1/etc/group"; chmod 0640 "$1/etc/shadow" "$1/etc/gshadow"
}

# write_conf [accounts] [method] [extra lines...]
write_conf() {
	accounts=${1:-lapsadmin}; method=${2:-shadow}; shift 2 2>/dev/null || shift $#
	{
		echo "[agent]"
		echo "accounts = $accounts"
		echo "method = $method"
		echo "root = $T/root"
		echo "state_dir = $T/state"
		echo "hash = sha512"
		echo "hash_cost = 1000"
		echo "[password]"
		echo "length = 24"
		echo "[escrow]"
		echo "backend = file"
		echo "recipients = $T/admin.pub"
		echo "device = testhost"
		echo "[file]"
		echo "dir = $T/escrow"
		for l in "$@"; do echo "$l"; done
	} > "$T/laps.conf"
	chmod 0600 "$T/laps.conf"
}

setup() {
	make_root "$T/root"
	mkdir -p "$T/state" && chmod 0700 "$T/state"
	"$TOOL" keygen "$T" || exit 99
	write_conf "$@"
}

# shadow line of an account (from the alternate root)
shadow_line() { grep "^$1:" "$T/root/etc/shadow"; }
# the shadow file without the given accounts' lines
shadow_others() {
	pat=$(printf '%s|' "$@"); pat=${pat%|}
	grep -Ev "^($pat):" "$T/root/etc/shadow"
}

# ---- PAM through pam_wrapper ----
. "$top_srcdir/tests/integration/lib/pamwrap.sh"
# pam_matrix (pam_wrapper's test module) checks passwords against a passdb
# file; pam_agenttest.so (ours) changes them the way pam_unix does for root.
PAM_MATRIX=
for d in /usr/lib/x86_64-linux-gnu/pam_wrapper /usr/lib64/pam_wrapper /usr/lib/pam_wrapper \
	 /usr/lib/*/pam_wrapper; do
	[ -e "$d/pam_matrix.so" ] && { PAM_MATRIX=$d/pam_matrix.so; break; }
done
PAM_TESTMOD=$top_builddir/tests/.libs/pam_agenttest.so

need_pam_wrapper() {
	[ -n "$PAM_MATRIX" ] || { echo "SKIP: pam_matrix.so (libpam-wrapper) not found"; exit 77; }
	[ -e "$PAM_TESTMOD" ] || { echo "test module not built: $PAM_TESTMOD"; exit 99; }
	# clang's ASan cannot run under pam_wrapper (RTLD_DEEPBIND)
	if ldd "$AGENT" 2>/dev/null | grep -q libclang_rt.asan; then
		echo "SKIP: clang ASan build under pam_wrapper"; exit 77
	fi
}

# setup_pam [password-module options]: service file "laps" + passdb
setup_pam() {
	mkdir -p "$T/pam.d"
	{
		echo "auth      required $PAM_MATRIX passdb=$T/passdb"
		echo "account   required $PAM_MATRIX passdb=$T/passdb"
		echo "password  required $PAM_TESTMOD passdb=$T/passdb $*"
	} > "$T/pam.d/laps"
	[ -e "$T/passdb" ] || { echo "lapsadmin:initial-pw-1:laps" > "$T/passdb"
		echo "admin2:initial-pw-2:laps" >> "$T/passdb"; }
	chmod 0600 "$T/passdb"
}

# run the agent (with pam_wrapper when the method is pam)
agent() {
	if [ "${METHOD:-shadow}" = pam ]; then
		pre=libpam_wrapper.so
		# gcc ASan must come first in LD_PRELOAD
		asan=$(ldd "$AGENT" 2>/dev/null | awk '/libasan/ {print $3}')
		[ -n "$asan" ] && pre="$asan:$pre"
		pamwrap "$pre" "$T/pam.d" "$AGENT" -c "$T/laps.conf" "$@"
	else
		"$AGENT" -c "$T/laps.conf" "$@"
	fi
}

# invariant: the escrow decrypts to the account's password (read with
# $ESCROW_ADMIN_CONF when the device cannot read its own escrow back)
check_invariant() {
	local conf=${ESCROW_ADMIN_CONF:-$T/laps.conf}
	if [ "${METHOD:-shadow}" = pam ]; then
		"$TOOL" check "$conf" "$T/admin.key" "${1:-lapsadmin}" "$T/passdb"
	else
		"$TOOL" check "$conf" "$T/admin.key" "${1:-lapsadmin}"
	fi
}
