#!/bin/bash
# agent_accounts.sh — issue 13: the managed account as admins create it.
#   * every account state (fresh '!' '!!' '*' '!*', locked '!'+hash,
#     expired, plain) x method {shadow, pam (pam_wrapper)} x backend
#     {file, ldap (a real slapd), rest (one real laps-escrowd, mTLS)}:
#     the escrowed password verifies against the hash behind any lock
#     prefix, the lock/expiry state is as configured, no other line of
#     passwd/shadow/group/gshadow changed;
#   * [agent] account_state, allow_uid0;
#   * create_account in the alternate root, field by field, twice;
#   * ldap schema mslaps without [escrow] recipients.
# Adding a backend = a conf_<name> function and a word in BACKENDS.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root

BACKENDS="file"
ESCROWD=$top_builddir/laps-escrowd ESCROWD_PID=
cleanup_all() {
	[ -n "$ESCROWD_PID" ] && kill "$ESCROWD_PID" 2>/dev/null && wait "$ESCROWD_PID" 2>/dev/null
	declare -F slapd_cleanup >/dev/null && slapd_cleanup
	rm -rf "$T"
}
trap cleanup_all EXIT
if command -v ldapsearch >/dev/null && command -v slapd >/dev/null 2>&1 ||
	[ -x /usr/sbin/slapd ]; then
	. "$top_srcdir/tests/integration/lib/slapd.sh"
	if slapd_start "$T/slapd" --quiet; then
		BACKENDS="file ldap"
		export LDAPCONF=/dev/null LDAPRC=/dev/null
	else
		echo "# slapd did not start: ldap cases skipped"
	fi
else
	echo "# slapd/ldap-utils missing: ldap cases skipped"
fi
# one laps-escrowd (SQLite) for the whole script; devices and the admin
# authenticate with certificates of a test CA (mTLS, no token issuer, so not
# rest_lib.sh, which starts one and needs node)
. "$top_srcdir/tests/integration/lib/escrowd.sh"
rest_start() {
	pki_ca "$T/pki" "laps test CA" &&
		pki_sign "$T/pki" server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth' &&
		pki_sign "$T/pki" host1 'extendedKeyUsage=clientAuth' &&
		pki_sign "$T/pki" host2 'extendedKeyUsage=clientAuth' &&
		pki_sign "$T/pki" admin-robot 'extendedKeyUsage=clientAuth' || return 1
	printf '%s\n' "[server]" "listen = 127.0.0.1:0" "cert_file = $T/pki/server.crt" \
		"key_file = $T/pki/server.key" "client_ca = $T/pki/ca.crt" "threads = 2" \
		"[store]" "url = sqlite:$T/escrow.db" \
		"[authz]" "cert_admins = admin-robot=laps.read,laps.secret" \
		"[limits]" "rate = 1000" "burst = 10000" >"$T/escrowd.conf"
	chmod 600 "$T/escrowd.conf"
	escrowd_spawn "$ESCROWD" "$T/escrowd.conf" "$T"
}
if [ -x "$ESCROWD" ] && command -v openssl >/dev/null; then
	if rest_start; then
		BACKENDS="$BACKENDS rest"
	else
		echo "# laps-escrowd did not start: rest cases skipped"
		cat "$T/pki/openssl.log" "$T/escrowd.log" 2>/dev/null
	fi
else
	echo "# laps-escrowd or openssl missing: rest cases skipped"
fi
METHODS="shadow"
if [ -n "$PAM_MATRIX" ] && [ -e "$PAM_TESTMOD" ] &&
	! ldd "$AGENT" 2>/dev/null | grep -q libclang_rt.asan; then
	METHODS="shadow pam"
else
	echo "# pam_wrapper (pam_matrix.so) or the test module missing: pam cases skipped"
fi
"$TOOL" keygen "$T" >/dev/null || exit 99

# ---- per-backend configuration: conf_<backend> DEVICE appends to laps.conf
# and writes $T/check.conf (what the admin-side helper reads with) ----
conf_file() {
	cp "$T/laps.conf" "$T/check.conf"
}
ldap_section() { # BIND_DN SECRET SCHEMA
	cat <<CONF
[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $1
bind_secret_file = $2
base = $LDAP_DEVICES_BASE
filter = (cn=%h)
schema = $3
timeout = 3s
CONF
}
conf_ldap() { # DEVICE [SCHEMA]
	sed -i -e 's/^backend = file$/backend = ldap/' -e "s/^device = .*/device = $1/" "$T/laps.conf"
	cp "$T/laps.conf" "$T/check.conf"
	ldap_section "$(slapd_device_dn "$1")" "$(slapd_device_secret "$1")" "${2:-laps}" >> "$T/laps.conf"
	ldap_section "$LDAP_READER_DN" "$LDAP_READER_SECRET" "${2:-laps}" >> "$T/check.conf"
	chmod 0600 "$T/check.conf"
}

rest_section() { # CERT-NAME
	printf '%s\n' "[rest]" "url = $ESCROWD_URL" "auth = mtls" "ca_file = $T/pki/ca.crt" \
		"cert_file = $T/pki/$1.crt" "key_file = $T/pki/$1.key" "timeout = 5s"
}
conf_rest() { # DEVICE: the device's certificate; the admin reads with admin-robot's
	sed -i -e 's/^backend = file$/backend = rest/' -e "s/^device = .*/device = $1/" "$T/laps.conf"
	cp "$T/laps.conf" "$T/check.conf"
	rest_section "$1" >>"$T/laps.conf"
	rest_section admin-robot >>"$T/check.conf"
	chmod 0600 "$T/check.conf"
}

# fresh root, state and escrow; config for BACKEND METHOD ACCOUNT DEVICE [extra]
prepare() {
	local b=$1 m=$2 acc=$3 dev=$4
	shift 4
	rm -rf "$T/root" "$T/state" "$T/escrow" "$T/passdb"
	make_root "$T/root"
	mkdir -p "$T/state" && chmod 0700 "$T/state"
	write_conf "$acc" "$m" "$@"
	"conf_$b" "$dev"
	if [ "$m" = pam ]; then
		for a in lapsadmin admin2 lockedadm fresh1 fresh2 fresh3 locked1 expired1 alice; do
			echo "$a:initial-$a:laps"
		done > "$T/passdb"
		setup_pam
	fi
	for f in passwd shadow group gshadow; do cp "$T/root/etc/$f" "$T/$f.0"; done
}

# other lines of the four files unchanged (shadow: all but ACCOUNT's)
others_unchanged() {
	local acc=$1 f
	for f in passwd group gshadow; do
		cmp -s "$T/$f.0" "$T/root/etc/$f" || return 1
	done
	cmp -s <(grep -v "^$acc:" "$T/shadow.0") <(grep -v "^$acc:" "$T/root/etc/shadow")
}
check() {
	if [ "$METHOD" = pam ]; then
		"$TOOL" check "$T/check.conf" "$T/admin.key" "$1" "$T/passdb"
	else
		"$TOOL" check "$T/check.conf" "$T/admin.key" "$1"
	fi
}
json_field() { # FILE KEY
	python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["accounts"][0]; print(str(a.get(sys.argv[2])).lower())' "$1" "$2"
}

# account:state (state: what the shadow line shows before)
STATES="fresh1:fresh fresh2:fresh fresh3:fresh lockedadm:fresh locked1:locked expired1:expired alice:none"

for B in $BACKENDS; do
	for METHOD in $METHODS; do
		dev=host1
		[ "$METHOD" = pam ] && dev=host2
		for sa in $STATES; do
			acc=${sa%%:*} st=${sa#*:} c="$B/$METHOD/$acc($st)"
			prepare "$B" "$METHOD" "$acc" "$dev"
			old=$(grep "^$acc:" "$T/shadow.0")
			agent run >"$T/out" 2>&1; rc=$?
			[ "$rc" -eq 0 ] || { fail "$c: run exit $rc"; cat "$T/out"; continue; }
			inv=$(check "$acc")
			[ "$inv" = "ok current confirmed" ] && pass "$c: escrow verifies against the account" ||
				fail "$c: $inv"
			others_unchanged "$acc" && pass "$c: no other line of passwd/shadow/group/gshadow changed" ||
				fail "$c: other lines changed"
			new=$(shadow_line "$acc")
			f2=$(echo "$new" | cut -d: -f2)
			if [ "$METHOD" = pam ]; then
				# the test module keeps passwords in passdb: lock and expiry
				# in shadow stay exactly as they were
				[ "$new" = "$old" ] && pass "$c: shadow line (lock, expiry) unchanged" ||
					fail "$c: shadow line changed: $new"
			else
				case $st in
				locked) case $f2 in '!$6$rounds=1000$'*) pass "$c: stays locked, new hash behind '!'" ;;
					*) fail "$c: lock lost: $new" ;; esac ;;
				*) case $f2 in '$6$rounds=1000$'*) pass "$c: new hash without lock prefix" ;;
					*) fail "$c: field $f2" ;; esac ;;
				esac
				[ "$(echo "$new" | cut -d: -f4-)" = "$(echo "$old" | cut -d: -f4-)" ] &&
					pass "$c: aging and expiry fields kept" || fail "$c: fields 4-9 changed: $new"
			fi
			agent status --json >"$T/st.json" 2>"$T/out"
			want_lock=unlocked
			[ "$st" = locked ] && want_lock=locked
			[ "$METHOD" = pam ] && [ "$st" = fresh ] && want_lock=fresh
			want_exp=false
			[ "$st" = expired ] && want_exp=true
			[ "$(json_field "$T/st.json" account_lock)" = "$want_lock" ] &&
				[ "$(json_field "$T/st.json" account_expired)" = "$want_exp" ] &&
				pass "$c: status --json: $want_lock, expired $want_exp" ||
				{ fail "$c: status json"; cat "$T/st.json"; }
			# a second run: nothing due (the digest is the hash behind '!')
			cp "$T/root/etc/shadow" "$T/shadow.1"
			agent run >"$T/out" 2>&1 && cmp -s "$T/shadow.1" "$T/root/etc/shadow" &&
				[ "$(check "$acc")" = "ok current confirmed" ] &&
				pass "$c: second run changes nothing" || { fail "$c: second run"; cat "$T/out"; }
		done
	done
done

# status text
METHOD=shadow
prepare file shadow expired1 testhost
agent run >/dev/null 2>&1
agent status >"$T/out" 2>&1
grep -q "local account: uid 1015, unlocked, expired (expire day 1)" "$T/out" &&
	pass "status (text) shows lock and expiry" || { fail "status text"; cat "$T/out"; }

# ---- account_state ----
prepare file shadow alice testhost "[agent]" "account_state = disabled"
agent run >"$T/out" 2>&1
case $(shadow_line alice | cut -d: -f2) in
'!$6$'*) [ "$(check alice)" = "ok current confirmed" ] && pass "account_state = disabled: rotated and locked" ||
	fail "disabled: $(check alice)" ;;
*) fail "disabled: $(shadow_line alice)"; cat "$T/out" ;;
esac
others_unchanged alice && pass "disabled: other lines unchanged" || fail "disabled: other lines"
write_conf alice shadow "[agent]" "account_state = enabled"
conf_file
cp "$T/root/etc/shadow" "$T/shadow.1"
agent run >"$T/out" 2>&1
[ "$(shadow_line alice | cut -d: -f2)" = "$(grep '^alice:' "$T/shadow.1" | cut -d: -f2 | tr -d '!')" ] &&
	[ "$(check alice)" = "ok current confirmed" ] &&
	pass "account_state = enabled: unlocked without a rotation, escrow still valid" ||
	{ fail "enabled: $(shadow_line alice)"; cat "$T/out"; }
prepare file shadow locked1 testhost "[agent]" "account_state = enabled"
agent run >/dev/null 2>&1
case $(shadow_line locked1 | cut -d: -f2) in
'$6$'*) pass "account_state = enabled: a locked account is rotated unlocked" ;;
*) fail "enabled locked1: $(shadow_line locked1)" ;;
esac
prepare file shadow fresh1 testhost "[agent]" "account_state = disabled"
agent run >/dev/null 2>&1
case $(shadow_line fresh1 | cut -d: -f2) in
'!$6$'*) [ "$(check fresh1)" = "ok current confirmed" ] && pass "disabled: a fresh account gets a locked password" ||
	fail "disabled fresh: $(check fresh1)" ;;
*) fail "disabled fresh1: $(shadow_line fresh1)" ;;
esac

# ---- uid 0 ----
prepare file shadow root testhost
agent run >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 4 ] && grep -q "allow_uid0" "$T/out" && cmp -s "$T/shadow.0" "$T/root/etc/shadow" &&
	[ "$("$TOOL" show "$T/laps.conf" root)" = none ] &&
	pass "uid 0 refused (exit 4, nothing escrowed, shadow untouched)" || { fail "uid0 rc $rc"; cat "$T/out"; }
prepare file shadow root testhost "[agent]" "allow_uid0 = yes"
agent run >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && [ "$(check root)" = "ok current confirmed" ] && pass "allow_uid0 = yes: root rotated" ||
	{ fail "allow_uid0 rc $rc"; cat "$T/out"; }

# ---- create_account ----
prepare file shadow newadm testhost "[agent]" "create_account = yes" "account_home = /home/newadm" \
	"account_shell = /bin/bash" "account_groups = sudo wheel"
mkdir -p "$T/root/home"
agent run >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && [ "$(check newadm)" = "ok current confirmed" ] &&
	pass "create: account created and rotated in the alternate root" || { fail "create rc $rc"; cat "$T/out"; }
[ "$(grep '^newadm:' "$T/root/etc/passwd")" = "newadm:x:999:999:laps managed account:/home/newadm:/bin/bash" ] &&
	pass "create: passwd entry (system uid 999 from the default range, gid = uid)" ||
	fail "create passwd: $(grep '^newadm:' "$T/root/etc/passwd")"
IFS=: read -r n f2 f3 f4 f5 f6 f7 f8 f9 <<<"$(shadow_line newadm)"
[ "$n" = newadm ] && case $f2 in '$6$'*) true ;; *) false ;; esac &&
	[ "$f3" = "$(( $(date +%s) / 86400 ))" ] && [ "$f4:$f5:$f6:$f7:$f8:$f9" = "0:99999:7:::" ] &&
	pass "create: shadow entry (password set by the first rotation, login.defs defaults)" ||
	fail "create shadow: $(shadow_line newadm)"
[ "$(grep '^newadm:' "$T/root/etc/group")" = "newadm:x:999:" ] &&
	[ "$(grep '^newadm:' "$T/root/etc/gshadow")" = "newadm:!::" ] &&
	grep -qx "sudo:x:27:alice,newadm" "$T/root/etc/group" && grep -qx "wheel:x:10:newadm" "$T/root/etc/group" &&
	grep -qx "sudo:\*::alice,newadm" "$T/root/etc/gshadow" && grep -qx "wheel:\*::newadm" "$T/root/etc/gshadow" &&
	pass "create: group, gshadow and the supplementary groups" || fail "create groups: $(cat "$T/root/etc/group")"
cmp -s "$T/passwd.0" <(grep -v '^newadm:' "$T/root/etc/passwd") &&
	cmp -s "$T/shadow.0" <(grep -v '^newadm:' "$T/root/etc/shadow") &&
	cmp -s <(grep -Ev '^(sudo|wheel):' "$T/group.0") <(grep -Ev '^(sudo|wheel|newadm):' "$T/root/etc/group") &&
	cmp -s <(grep -Ev '^(sudo|wheel):' "$T/gshadow.0") <(grep -Ev '^(sudo|wheel|newadm):' "$T/root/etc/gshadow") &&
	pass "create: every other line byte for byte" || fail "create: other lines changed"
[ "$(stat -c '%a %u %g' "$T/root/home/newadm")" = "700 999 999" ] && pass "create: home 0700 owned by the account" ||
	fail "create home: $(stat -c '%a %u %g' "$T/root/home/newadm")"
[ "$(stat -c %a "$T/root/etc/shadow") $(stat -c %a "$T/root/etc/gshadow")" = "640 640" ] &&
	! ls "$T/root/etc/"*.lock "$T/root/etc/"*+ >/dev/null 2>&1 &&
	pass "create: modes kept, no lock or temporary file left" || fail "create: modes or leftovers"
for f in passwd shadow group gshadow; do cp "$T/root/etc/$f" "$T/$f.1"; done
agent run >"$T/out" 2>&1; rc=$?
same=1
for f in passwd shadow group gshadow; do cmp -s "$T/$f.1" "$T/root/etc/$f" || same=0; done
[ "$rc" -eq 0 ] && [ "$same" = 1 ] && pass "create: a second run changes nothing" || { fail "create twice rc $rc"; cat "$T/out"; }
agent check-config >"$T/out" 2>&1 && grep -q "^create account: yes (system uid from login.defs, home /home/newadm, shell /bin/bash, groups sudo wheel)" "$T/out" &&
	pass "check-config describes account creation" || { fail "check-config create"; cat "$T/out"; }
# account_home / account_shell: no ':', control character or '.'/'..'
# component (issue 22, defect 5): check-config exits 2 naming the key (a
# control character is already refused by the parser), a run creates nothing
# and no directory appears outside the root
for bad in "account_home = /home/x:0:0::/root" "account_shell = /bin/sh:x" \
	"account_home = /../escaped" "account_home = /home/./newadm" "account_home = /home/newadm/.." \
	"account_shell = $(printf '/bin/sh\001')"; do
	prepare file shadow newadm testhost "[agent]" "create_account = yes" "$bad"
	mkdir -p "$T/root/home"
	key=${bad%% =*}
	agent check-config >"$T/out" 2>&1; rc=$?
	[ "$rc" -eq 2 ] && grep -Eq "\[agent\] $key|control character" "$T/out" &&
		pass "check-config refuses '$(printf %q "$bad")'" || { fail "check-config '$bad': rc $rc"; cat "$T/out"; }
	agent run >"$T/out" 2>&1; rc=$?
	same=1
	for f in passwd shadow group gshadow; do cmp -s "$T/$f.0" "$T/root/etc/$f" || same=0; done
	[ "$rc" -ne 0 ] && [ "$same" = 1 ] && [ ! -e "$T/escaped" ] && [ ! -e "$T/root/escaped" ] &&
		pass "  a run creates nothing (exit $rc)" || { fail "  run '$bad': rc $rc same $same"; cat "$T/out"; }
done
# the home is created inside the root, following no symbolic link out of it
prepare file shadow newadm testhost "[agent]" "create_account = yes" "account_home = /home/newadm"
mkdir -p "$T/outside" && ln -s "$T/outside" "$T/root/home"
agent run >"$T/out" 2>&1; rc=$?
[ "$rc" -ne 0 ] && [ ! -e "$T/outside/newadm" ] && grep -q "symbolic link" "$T/out" &&
	pass "home through a symbolic link out of the root: refused, nothing created outside" ||
	{ fail "home symlink: rc $rc, $(ls -la "$T/outside")"; cat "$T/out"; }
rm -rf "$T/outside"
# a missing supplementary group: nothing created, exit 4
prepare file shadow newadm2 testhost "[agent]" "create_account = yes" "account_groups = nosuch"
agent run >"$T/out" 2>&1; rc=$?
same=1
for f in passwd shadow group gshadow; do cmp -s "$T/$f.0" "$T/root/etc/$f" || same=0; done
[ "$rc" -eq 4 ] && [ "$same" = 1 ] && grep -q "nosuch" "$T/out" &&
	pass "create: missing group -> exit 4, nothing written" || { fail "create missing group rc $rc"; cat "$T/out"; }
# uid 0 reached through login.defs (not account_uid): the system uid range
# starts at 0 and passwd has no uid 0, so the free-uid search lands on 0.
# Rule: creation refuses uid 0 unless allow_uid0 = yes -- nothing written.
uid0_root() {
	sed -i '/^root:/d' "$T/root/etc/passwd" "$T/root/etc/shadow"
	printf '%s\n' "SYS_UID_MIN 0" "SYS_UID_MAX 0" "SYS_GID_MIN 100" "SYS_GID_MAX 999" \
		>"$T/root/etc/login.defs"
	for f in passwd shadow group gshadow; do cp "$T/root/etc/$f" "$T/$f.0"; done
}
prepare file shadow newroot testhost "[agent]" "create_account = yes"
uid0_root
agent run >"$T/out" 2>&1; rc=$?
same=1
for f in passwd shadow group gshadow; do cmp -s "$T/$f.0" "$T/root/etc/$f" || same=0; done
[ "$rc" -eq 4 ] && [ "$same" = 1 ] && ! grep -q '^newroot:' "$T/root/etc/passwd" &&
	[ "$("$TOOL" show "$T/laps.conf" newroot)" = none ] && grep -q "allow_uid0" "$T/out" &&
	pass "create: uid 0 from login.defs refused (exit 4, no account, nothing escrowed)" ||
	{ fail "rule 'account creation refuses uid 0 without allow_uid0' broken: login.defs range 0..0 gave rc $rc, files unchanged=$same, passwd: $(grep '^newroot:' "$T/root/etc/passwd")"; cat "$T/out"; }
prepare file shadow newroot testhost "[agent]" "create_account = yes" "allow_uid0 = yes"
uid0_root
agent run >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q '^newroot:x:0:' "$T/root/etc/passwd" && [ "$(check newroot)" = "ok current confirmed" ] &&
	pass "create: uid 0 from login.defs with allow_uid0 = yes: created and rotated" ||
	{ fail "create uid 0 allowed rc $rc: $(grep '^newroot:' "$T/root/etc/passwd")"; cat "$T/out"; }

# ---- Windows LAPS schema without keys (ldap mslaps) ----
case " $BACKENDS " in
*" ldap "*)
	prepare file shadow alice host3
	sed -i '/^recipients = /d' "$T/laps.conf"
	conf_ldap host3 mslaps
	agent check-config >"$T/out" 2>&1 && grep -q "^recipients: optional, none given" "$T/out" &&
		pass "mslaps: check-config says recipients are optional" || { fail "mslaps check-config"; cat "$T/out"; }
	agent run >"$T/out" 2>&1; rc=$?
	pw=$(LDAPTLS_CACERT=$LDAP_CA ldapsearch -LLL -o ldif-wrap=no -ZZ -H "$LDAP_URI" -x \
		-D "$LDAP_READER_DN" -y <(head -n1 "$LDAP_READER_SECRET" | tr -d '\n') \
		-b "$(slapd_device_dn host3)" -s base msLAPS-Password |
		python3 -c '
import sys, json, base64
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("msLAPS-Password:: "):
        print(json.loads(base64.b64decode(line[18:]).decode())["p"])
    elif line.startswith("msLAPS-Password: "):
        print(json.loads(line[17:])["p"])')
	hash=$(shadow_line alice | cut -d: -f2)
	[ "$rc" -eq 0 ] && [ -n "$pw" ] &&
		python3 -W ignore -c 'import crypt,sys; sys.exit(crypt.crypt(sys.argv[1], sys.argv[2]) != sys.argv[2])' "$pw" "$hash" &&
		pass "mslaps without recipients: rotated, the directory's password verifies" ||
		{ fail "mslaps no recipients rc $rc"; cat "$T/out"; }
	prepare file shadow alice host3
	sed -i '/^recipients = /d' "$T/laps.conf"
	conf_ldap host3 laps
	agent run >"$T/out" 2>&1; rc=$?
	[ "$rc" -eq 2 ] && grep -q "recipients" "$T/out" && cmp -s "$T/shadow.0" "$T/root/etc/shadow" &&
		pass "schema laps without recipients: config error (exit 2)" || { fail "laps no recipients rc $rc"; cat "$T/out"; }
	agent check-config >"$T/out" 2>&1
	;;
esac
prepare file shadow alice testhost
agent check-config >"$T/out" 2>&1 && grep -q "^recipients: required (backend file" "$T/out" &&
	pass "file: check-config says recipients are required" || { fail "file check-config"; cat "$T/out"; }
# laps-escrowd stops cleanly (a sanitizer report would make its exit non-zero)
if [ -n "$ESCROWD_PID" ]; then
	kill "$ESCROWD_PID"; wait "$ESCROWD_PID"; rc=$?
	ESCROWD_PID=
	[ "$rc" -eq 0 ] && pass "laps-escrowd exits 0 after the rest cases" ||
		{ fail "laps-escrowd exit $rc"; tail -20 "$T/escrowd.log"; }
fi
finish
