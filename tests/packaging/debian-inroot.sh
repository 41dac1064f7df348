#!/bin/bash
# tests/packaging/debian-inroot.sh DEBDIR — runs INSIDE the throw-away
# Debian 12 root that tests/packaging/debian.sh builds (chroot in fresh
# namespaces, no network).  Installs the .debs of DEBDIR, checks them,
# reinstalls, removes and purges them.  One line per check: "ok: …",
# "FAIL: …" or "SKIP: …"; the caller counts them.
set -u
debdir=$1
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

failed=0
note() { failed=1; echo "    $*"; }
# check NAME: report the assertions (note) made since the last check
check() {
	if [ "$failed" = 0 ]; then echo "ok: $1"; else echo "FAIL: $1"; fi
	failed=0
}
mode_is() { # PATH MODE OWNER GROUP
	local got
	if ! got=$(stat -c '%a %U %G' "$1" 2>/dev/null); then
		note "$1: missing"
	elif [ "$got" != "$2 $3 $4" ]; then
		note "$1: $got, expected $2 $3 $4"
	fi
}
absent() { [ ! -e "$1" ] && [ ! -L "$1" ] || note "$1: still there"; }
present() { [ -e "$1" ] || note "$1: missing"; }
has_line() { grep -Eq "$2" "$1" 2>/dev/null || note "$1: no line matching /$2/"; }
no_line() { ! grep -Eq "$2" "$1" 2>/dev/null || note "$1: has a line matching /$2/"; }

# Everything outside dpkg's and the logs' own bookkeeping, and /etc's
# contents byte for byte.
snapshot() { # PREFIX
	find / -xdev \( -path /proc -o -path /dev -o -path /run -o -path /tmp \
		-o -path /var/lib/dpkg -o -path /var/log -o -path /var/cache/debconf \
		-o -path /var/cache/ldconfig \) -prune -o -printf '%p %m %u %g\n' |
		sort >"$1.paths"
	find /etc -xdev -type f -print0 | sort -z | xargs -0 md5sum >"$1.etc"
}
# The system user of laps-escrowd stays on purge (debian/laps-escrowd.sysusers):
# with that package, the account files are compared without its lines.
ACCOUNT_FILES='/etc/(passwd|group|shadow|gshadow)-?'
same_as_before() { # PREFIX
	local f
	snapshot "$1"
	if ! diff -u /tmp/before.paths "$1.paths" >"$1.paths.diff"; then
		note "files differ from before installation:"
		sed -n '3,40p' "$1.paths.diff" | sed 's/^/      /'
	fi
	if [ "$escrowd" = yes ]; then
		grep -v -E "  $ACCOUNT_FILES\$" /tmp/before.etc >/tmp/before.etc.cmp
		grep -v -E "  $ACCOUNT_FILES\$" "$1.etc" >"$1.etc.cmp"
		for f in passwd group shadow gshadow; do
			diff <(grep -v '^laps-escrowd:' "/tmp/before.$f") <(grep -v '^laps-escrowd:' "/etc/$f") \
				>/dev/null || note "/etc/$f differs by more than the laps-escrowd user"
		done
	else
		cp /tmp/before.etc /tmp/before.etc.cmp
		cp "$1.etc" "$1.etc.cmp"
	fi
	if ! diff -u /tmp/before.etc.cmp "$1.etc.cmp" >"$1.etc.diff"; then
		note "/etc contents differ from before installation:"
		sed -n '3,40p' "$1.etc.diff" | sed 's/^/      /'
	fi
}

pkgs=()
for d in "$debdir"/*.deb; do pkgs+=("$(dpkg-deb -f "$d" Package)"); done
escrowd=no
case " ${pkgs[*]} " in *" laps-escrowd "*) escrowd=yes ;; esac

snapshot /tmp/before
for f in passwd group shadow gshadow; do cp "/etc/$f" "/tmp/before.$f"; done

# ---- install ----
if dpkg -i "$debdir"/*.deb >/tmp/install.log 2>&1; then
	laps-agent --version >/dev/null 2>&1 || note "laps-agent does not run"
	laps-get --version >/dev/null 2>&1 || note "laps-get does not run"
else
	note "dpkg -i failed:"
	sed 's/^/      /' /tmp/install.log | tail -n 30
fi
check "install: dpkg -i ${pkgs[*]} into a fresh Debian 12 root, binaries run"

# ---- files and modes ----
pamso=$(dpkg -L libpam-laps 2>/dev/null | grep '/security/pam_laps\.so$')
case $pamso in
/lib/*-linux-gnu/security/pam_laps.so | /usr/lib/*-linux-gnu/security/pam_laps.so) ;;
*) note "pam_laps.so not in the multiarch security directory: '$pamso'" ;;
esac
mode_is /usr/sbin/laps-agent 755 root root
mode_is /etc/laps/laps.conf 600 root root
mode_is /var/lib/laps 700 root root
for u in laps-agent.service laps-agent.timer laps-agent-postauth.service laps-agent-postauth.timer \
	laps-agent-enroll.service; do
	mode_is "/lib/systemd/system/$u" 644 root root
done
mode_is /usr/share/man/man5/laps.conf.5.gz 644 root root
mode_is /usr/share/man/man8/laps-agent.8.gz 644 root root
mode_is /usr/share/doc/laps-agent/examples/cron.d-laps-agent 644 root root
mode_is /usr/share/doc/laps-agent/examples/laps.conf 644 root root
mode_is "${pamso:-/nonexistent/pam_laps.so}" 644 root root
mode_is /usr/share/pam-configs/laps 644 root root
mode_is /usr/share/man/man8/pam_laps.8.gz 644 root root
mode_is /usr/bin/laps-get 755 root root
mode_is /usr/share/man/man1/laps-get.1.gz 644 root root
mode_is /usr/share/bash-completion/completions/laps-get 644 root root
for f in laps.schema laps.ldif mslaps.schema mslaps.ldif ad-laps.ldif openldap-acl.ldif openldap-acl-mslaps.ldif README.md; do
	mode_is "/usr/share/laps/schema/$f" 644 root root
done
# The backend modules: what the loader demands (backends/registry.c
# check_path: directory and module owned by root, writable by nobody else,
# the module a regular file), one package each.
ldapso=$(dpkg -L laps-backend-ldap 2>/dev/null | grep '/laps/backends/ldap\.so$')
bdir=$(dirname "${ldapso:-/nonexistent/x}")
case $bdir in
/usr/lib/*-linux-gnu/laps/backends) ;;
*) note "ldap.so not in /usr/lib/<multiarch>/laps/backends: '$ldapso'" ;;
esac
mode_is "$(dirname "$bdir")" 755 root root
mode_is "$bdir" 755 root root
for m in ldap graph rest; do
	mode_is "$bdir/$m.so" 644 root root
	[ -L "$bdir/$m.so" ] && note "$bdir/$m.so is a symbolic link"
	[ "$(dpkg -S "$bdir/$m.so" 2>/dev/null | cut -d: -f1)" = "laps-backend-$m" ] ||
		note "$bdir/$m.so does not belong to laps-backend-$m: $(dpkg -S "$bdir/$m.so" 2>&1)"
done
[ "$(ls "$bdir")" = "$(printf 'graph.so\nldap.so\nrest.so')" ] || note "$bdir holds: $(ls "$bdir" | tr '\n' ' ')"
dpkg -L laps-agent laps-get | grep -q '/laps/backends/' && note "laps-agent or laps-get ships a module"
check "files-and-modes: agent, config 0600, state 0700, units, PAM module, laps-get, completion, schema, modules root 0644 in a root 0755 directory"

dpkg-query -W -f='${Conffiles}\n' laps-agent | grep -q '^ /etc/laps/laps.conf ' ||
	note "/etc/laps/laps.conf is not a conffile of laps-agent"
check "conffile: /etc/laps/laps.conf belongs to laps-agent as a conffile"

# ---- PAM profile ----
grep -qx laps /var/lib/pam/seen 2>/dev/null || note "pam-auth-update has not seen the laps profile"
for s in common-session common-session-noninteractive; do
	no_line "/etc/pam.d/$s" 'pam_laps\.so'
done
check "pam-profile-registered: pam-auth-update knows 'laps', off by default"

pam-auth-update --enable laps >/tmp/pam.log 2>&1 || note "pam-auth-update --enable laps failed: $(cat /tmp/pam.log)"
for s in common-session common-session-noninteractive; do
	has_line "/etc/pam.d/$s" '^session[[:space:]]+optional[[:space:]]+pam_laps\.so'
done
check "pam-profile-enables: pam-auth-update --enable laps adds it to both session stacks"

# ---- the unconfigured agent ----
out=$(laps-agent check-config 2>&1)
rc=$?
[ "$rc" = 2 ] || note "laps-agent check-config exited $rc, expected 2 (configuration error)"
printf '%s\n' "$out" | grep -q '/etc/laps/laps.conf.*recipients' ||
	note "check-config does not name the missing setting: $out"
[ -z "$(ls -A /var/lib/laps)" ] || note "check-config wrote to /var/lib/laps: $(ls -A /var/lib/laps)"
echo "    check-config said: $out"
check "agent-check-config: on the default config it exits 2 and names what is missing"

absent /etc/systemd/system/timers.target.wants/laps-agent.timer
absent /etc/systemd/system/timers.target.wants/laps-agent-postauth.timer
grep -q 'laps.conf is not complete; laps-agent.timer not enabled' /tmp/install.log ||
	note "the postinst did not say why the timer stays off"
check "timers-not-enabled: unconfigured, neither timer is enabled, and the postinst says so"

# ---- laps-escrowd ----
if [ "$escrowd" = yes ]; then
	mode_is /usr/sbin/laps-escrowd 755 root root
	mode_is /etc/laps/laps-escrowd.conf 600 root root
	# systemd's layout for StateDirectory= of a DynamicUser= unit
	mode_is /var/lib/private 700 root root
	mode_is /var/lib/private/laps-escrowd 700 laps-escrowd laps-escrowd
	[ "$(readlink /var/lib/laps-escrowd)" = private/laps-escrowd ] ||
		note "/var/lib/laps-escrowd is not the link to private/laps-escrowd"
	mode_is /usr/share/doc/laps-escrowd/examples/laps-escrowd.conf 644 root root
	mode_is /lib/systemd/system/laps-escrowd.service 644 root root
	mode_is /usr/lib/sysusers.d/laps-escrowd.conf 644 root root
	mode_is /usr/share/man/man8/laps-escrowd.8.gz 644 root root
	getent passwd laps-escrowd | grep -q ':/usr/sbin/nologin$' ||
		note "no system user laps-escrowd with nologin: $(getent passwd laps-escrowd)"
	absent /etc/systemd/system/multi-user.target.wants/laps-escrowd.service
	out=$(laps-escrowd check-config 2>&1)
	rc=$?
	[ "$rc" = 2 ] || note "laps-escrowd check-config exited $rc, expected 2 (configuration error)"
	printf '%s\n' "$out" | grep -q '/etc/laps/laps-escrowd.conf.*required' ||
		note "laps-escrowd check-config does not name the missing setting: $out"
	echo "    laps-escrowd check-config said: $out"
	check "escrowd: files, sysusers user, 0700 database dir, not enabled, check-config names what is missing"
else
	note "no laps-escrowd package among ${pkgs[*]}"
	check "escrowd: the package is built"
fi

# ---- laps-console: laps-escrowd serves the installed files ----
# The root has openssl but no curl (the cached base root holds what the
# packages depend on, plus openssl, slapd, ldap-utils): the HTTPS requests
# are made with openssl s_client.  laps-escrowd runs by hand on 127.0.0.1
# (no systemd in the root) and is stopped by its PID.
console_get() { # PORT PATH OUT: the raw answer (headers and body) into OUT
	printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" |
		timeout 10 openssl s_client -quiet -connect "127.0.0.1:$1" \
			-CAfile "$c/cert.pem" -verify_return_error >"$3" 2>/dev/null
}
console_header() { # ANSWER NAME: the header's value
	sed -n '1,/^\r$/p' "$1" | grep -i "^$2:" | head -n1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'
}
case " ${pkgs[*]} " in
*" laps-console "*)
	for f in index.html app.js app.css sodium.mjs libsodium-sumo.mjs; do
		mode_is "/usr/share/laps/console/$f" 644 root root
	done
	c=/root/laps-console
	mkdir -m 0700 -p "$c"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$c/key.pem" -out "$c/cert.pem" >/dev/null 2>&1 ||
		note "openssl: no certificate for laps-escrowd"
	(umask 077 && printf '[server]\nlisten = 127.0.0.1:0\ncert_file = %s\nkey_file = %s\n[store]\nurl = sqlite:%s\n[oidc]\nissuer = https://127.0.0.1:9\naudience = https://laps.test\n[console]\nenable = yes\n' \
		"$c/cert.pem" "$c/key.pem" "$c/escrow.db" >"$c/escrowd.conf")
	laps-escrowd -c "$c/escrowd.conf" --port-file "$c/port" 2>"$c/log" &
	cpid=$!
	for _ in $(seq 100); do [ -s "$c/port" ] && break; sleep 0.1; done
	if [ -s "$c/port" ]; then
		port=$(cat "$c/port")
		console_get "$port" /console/ "$c/index"
		head -n1 "$c/index" | grep -q '^HTTP/1\.[01] 200' || note "GET /console/: $(head -n1 "$c/index")"
		case $(console_header "$c/index" content-security-policy) in
		*"default-src 'none'"*"script-src 'self' 'wasm-unsafe-eval';"*"connect-src 'self' https://127.0.0.1:9;"*"frame-ancestors 'none'"*) ;;
		*) note "CSP: '$(console_header "$c/index" content-security-policy)'" ;;
		esac
		[ "$(console_header "$c/index" cache-control)" = no-store ] &&
			[ "$(console_header "$c/index" referrer-policy)" = no-referrer ] &&
			[ "$(console_header "$c/index" x-content-type-options)" = nosniff ] &&
			[ "$(console_header "$c/index" x-frame-options)" = DENY ] ||
			note "headers: $(sed -n '1,/^\r$/p' "$c/index" | tr -d '\r' | tr '\n' '|')"
		for f in index.html sodium.mjs; do
			console_get "$port" "/console/$f" "$c/got"
			[ "$(sed '1,/^\r$/d' "$c/got" | sha256sum)" = "$(sha256sum </usr/share/laps/console/$f)" ] ||
				note "GET /console/$f is not /usr/share/laps/console/$f"
		done
		grep -c 'integrity="sha384-' /usr/share/laps/console/index.html | grep -qx 4 ||
			note "index.html has not 4 SRI hashes"
	else
		note "laps-escrowd with [console] enable = yes did not start: $(cat "$c/log")"
	fi
	kill "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	rm -rf "$c" # the purge check compares the root with its state before
	check "console: laps-console's files, served by laps-escrowd ([console] enable = yes) with the console headers"
	;;
*)
	note "no laps-console package among ${pkgs[*]}"
	check "console: the package is built"
	;;
esac

# ---- the backend modules load from the packages' files ----
laps-get keygen -o /tmp/admin.key --no-passphrase >/dev/null 2>&1 || note "laps-get keygen failed"
t=/root/laps-modules
mkdir -m 0700 -p "$t"
cp /tmp/admin.key.pub "$t/admin.pub"
# nothing listens on 127.0.0.1:9 (and there is no network): the ldap
# backend's first connection fails.
(umask 077 && printf '[escrow]\nbackend = ldap\nrecipients = %s\n[ldap]\nuri = ldap://127.0.0.1:9\ntls = none\nbind = external\nbase = dc=example,dc=org\ndn = cn=h1,dc=example,dc=org\ntimeout = 2s\n' \
	"$t/admin.pub" >"$t/ldap.conf")
(umask 077 && printf '[escrow]\nbackend = file\nrecipients = %s\n' "$t/admin.pub" >"$t/file.conf")
(umask 077 && printf '[escrow]\nbackend = graph\n[graph]\nurl = https://127.0.0.1:9/v1.0\ntoken_url = https://127.0.0.1:9/token\nclient_id = c1\nclient_secret_file = %s\ntimeout = 2s\n' \
	"$t/secret" >"$t/graph.conf" && echo s3cret >"$t/secret")
if [ -n "${ldapso:-}" ]; then
	out=$(LD_DEBUG=files laps-agent -c "$t/ldap.conf" check-config 2>"$t/ld.agent")
	rc=$?
	[ "$rc" = 0 ] || note "laps-agent check-config (backend = ldap) exited $rc: $(grep -v '^ *[0-9]*:' "$t/ld.agent")"
	printf '%s\n' "$out" | grep -qx 'backend: ldap' || note "check-config does not report backend ldap: $out"
	grep -q "file=$ldapso .*dynamically loaded by" "$t/ld.agent" ||
		note "laps-agent did not dlopen $ldapso"
	grep -q 'file=libldap' "$t/ld.agent" || note "laps-agent did not map libldap with backend = ldap"
	# without the module: the file backend maps neither the module nor libldap
	LD_DEBUG=files laps-agent -c "$t/file.conf" check-config >/dev/null 2>"$t/ld.file" ||
		note "laps-agent check-config (backend = file) failed: $(grep -v '^ *[0-9]*:' "$t/ld.file")"
	grep -Eq 'laps/backends/|file=libldap' "$t/ld.file" && note "backend = file mapped a module or libldap"
	# laps-get reaches the LDAP library through the module and fails on the network
	out=$(LD_DEBUG=files laps-get -c "$t/ldap.conf" -k /tmp/admin.key h1 2>"$t/ld.get")
	rc=$?
	msg=$(grep -v '^ *[0-9]*:' "$t/ld.get")
	[ "$rc" != 0 ] && [ -z "$out" ] || note "laps-get printed '$out', exit $rc, with no LDAP server"
	grep -q "file=$ldapso .*dynamically loaded by" "$t/ld.get" || note "laps-get did not dlopen $ldapso"
	printf '%s\n' "$msg" | grep -q "^laps-get: ldap: escrow backend unreachable: .*ldap://127\.0\.0\.1:9: Can't contact LDAP server" ||
		note "laps-get's error is not the LDAP connection's: $msg"
	printf '%s\n' "$msg" | sed 's/^/    laps-get said: /'
	# graph: laps-get --source graph maps libcurl only then
	LD_DEBUG=files laps-get -c "$t/graph.conf" -k /tmp/admin.key --source graph h1 >/dev/null 2>"$t/ld.graph"
	grep -q "file=$bdir/graph.so .*dynamically loaded by" "$t/ld.graph" ||
		note "laps-get --source graph did not dlopen graph.so: $(grep -v '^ *[0-9]*:' "$t/ld.graph")"
	grep -q 'file=libcurl' "$t/ld.graph" || note "laps-get --source graph did not map libcurl"
	grep -q 'file=libcurl' "$t/ld.get" && note "laps-get mapped libcurl to read LDAP"
fi
check "backends-load: laps-agent and laps-get dlopen ldap.so (libldap only then), laps-get graph.so (libcurl only then); file maps neither"

# The same runs fail once the module's mode is one the loader refuses: the
# check above would notice modes that are wrong.
if [ -n "${ldapso:-}" ]; then
	chmod 0664 "$ldapso"
	out=$(laps-agent -c "$t/ldap.conf" check-config 2>&1)
	rc=$?
	chmod 0644 "$ldapso"
	[ "$rc" = 2 ] || note "check-config with a group-writable ldap.so exited $rc, expected 2"
	printf '%s\n' "$out" | grep -q "$ldapso: group- or world-writable" ||
		note "check-config does not name the writable module: $out"
fi
check "backends-refused: a group-writable ldap.so is refused (check-config exits 2 and names it)"

# laps-agent without the recommended module: a clear error, the file backend still works
if dpkg -r laps-backend-ldap >/tmp/rm-ldap.log 2>&1; then
	absent "${ldapso:-/nonexistent}"
	out=$(laps-agent -c "$t/ldap.conf" check-config 2>&1)
	rc=$?
	[ "$rc" = 2 ] || note "check-config without laps-backend-ldap exited $rc, expected 2"
	printf '%s\n' "$out" | grep -q "backend ldap is not installed" ||
		note "check-config does not say the backend is not installed: $out"
	echo "    check-config said: $out"
	laps-agent -c "$t/file.conf" check-config >/dev/null 2>&1 ||
		note "the file backend fails without laps-backend-ldap"
	dpkg -i "$debdir"/laps-backend-ldap_*.deb >/tmp/re-ldap.log 2>&1 || note "reinstalling laps-backend-ldap failed"
	laps-agent -c "$t/ldap.conf" check-config >/dev/null 2>&1 || note "check-config fails after reinstalling the module"
else
	note "dpkg -r laps-backend-ldap failed: $(tail -n 5 /tmp/rm-ldap.log)"
fi
check "backend-missing: without laps-backend-ldap, check-config says ldap is not installed; file still works"
rm -rf "$t"

# ---- reinstall the same version ----
echo '# local edit' >>/etc/laps/laps.conf
touch /var/lib/laps/state-kept
[ "$escrowd" = no ] || touch /var/lib/laps-escrowd/db-kept
if dpkg -i "$debdir"/*.deb >/tmp/reinstall.log 2>&1; then
	[ "$(tail -n 1 /etc/laps/laps.conf)" = '# local edit' ] || note "the local edit of laps.conf is lost"
	mode_is /etc/laps/laps.conf 600 root root
	present /var/lib/laps/state-kept
	[ "$escrowd" = no ] || present /var/lib/laps-escrowd/db-kept
	[ "$escrowd" = no ] || mode_is /var/lib/private/laps-escrowd 700 laps-escrowd laps-escrowd
	has_line /etc/pam.d/common-session 'pam_laps\.so'
else
	note "dpkg -i (reinstall) failed:"
	sed 's/^/      /' /tmp/reinstall.log | tail -n 30
fi
check "reinstall: same version again keeps the edited conffile, its mode, state and the PAM choice"

# ---- remove ----
if dpkg -r "${pkgs[@]}" >/tmp/remove.log 2>&1; then
	absent /usr/sbin/laps-agent
	absent /usr/bin/laps-get
	absent "${pamso:-/nonexistent}"
	present /etc/laps/laps.conf
	present /var/lib/laps/state-kept
	[ "$escrowd" = no ] || present /var/lib/laps-escrowd/db-kept
	for s in common-session common-session-noninteractive; do
		no_line "/etc/pam.d/$s" 'pam_laps\.so'
	done
else
	note "dpkg -r failed:"
	sed 's/^/      /' /tmp/remove.log | tail -n 30
fi
check "remove-keeps-state: programs gone, pam_laps out of the stacks, config and state kept"

# ---- purge ----
if dpkg -P "${pkgs[@]}" >/tmp/purge.log 2>&1; then
	absent /var/lib/laps
	absent /var/lib/laps-escrowd
	absent /var/lib/private/laps-escrowd
	absent /etc/laps
	same_as_before /tmp/after-purge
else
	note "dpkg -P failed:"
	sed 's/^/      /' /tmp/purge.log | tail -n 30
fi
check "purge-leaves-nothing: state, config and every installed file gone; /etc as before"

# ---- first installation onto a finished configuration ----
mkdir -p /etc/laps/recipients
cp /tmp/admin.key.pub /etc/laps/recipients/admin.pub
(umask 077 && printf '[escrow]\nbackend = file\nrecipients = /etc/laps/recipients/admin.pub\n' \
	>/etc/laps/laps.conf)
agent_deb=$(ls "$debdir"/laps-agent_*.deb)
if dpkg -i --force-confdef --force-confold "$agent_deb" >/tmp/configured.log 2>&1; then
	[ -L /etc/systemd/system/timers.target.wants/laps-agent.timer ] ||
		note "laps-agent.timer not enabled although check-config passes"
	absent /etc/systemd/system/timers.target.wants/laps-agent-postauth.timer
	laps-agent check-config >/dev/null 2>&1 || note "check-config fails on the test configuration"
	! grep -q 'laps-x25519' /tmp/configured.log || note "the postinst printed check-config's output"
	dpkg -P laps-agent >/tmp/configured-purge.log 2>&1 || note "dpkg -P laps-agent failed"
	absent /etc/systemd/system/timers.target.wants/laps-agent.timer
	absent /etc/laps/laps.conf
	# the recipient key is the administrator's, not the package's
	present /etc/laps/recipients/admin.pub
	rm -rf /etc/laps
	same_as_before /tmp/after-purge2
else
	note "dpkg -i onto an existing configuration failed:"
	sed 's/^/      /' /tmp/configured.log | tail -n 30
fi
check "install-configured-enables-timer: with a complete laps.conf the timer is enabled; purge undoes it"

# ---- zero-touch: cloud-init wrote laps.conf and a token file before the package ----
mkdir -p /etc/laps/recipients
cp /tmp/admin.key.pub /etc/laps/recipients/admin.pub
(umask 077 && printf '%s\n' '[escrow]' 'backend = rest' 'recipients = /etc/laps/recipients/admin.pub' '' \
	'[rest]' 'url = https://laps.example.test' 'auth = mtls' 'cert_file = /etc/laps/device.crt' \
	'key_file = /etc/laps/device.key' >/etc/laps/laps.conf &&
	echo 'laps-et-0123456789abcdef.not-a-real-token' >/etc/laps/enroll.token)
rest_deb=$(ls "$debdir"/laps-backend-rest_*.deb)
u=/lib/systemd/system/laps-agent-enroll.service
if dpkg -i --force-confdef --force-confold "$agent_deb" "$rest_deb" >/tmp/zerotouch.log 2>&1; then
	mode_is $u 644 root root
	[ -L /etc/systemd/system/multi-user.target.wants/laps-agent-enroll.service ] ||
		note "laps-agent-enroll.service not enabled"
	[ -L /etc/systemd/system/timers.target.wants/laps-agent.timer ] ||
		note "laps-agent.timer not enabled although an enrollment token waits"
	# the unit as systemd reads it: conditions, the command, the order
	has_line $u '^ConditionPathExists=/etc/laps/enroll\.token$'
	has_line $u '^ConditionPathExists=!/etc/laps/device\.crt$'
	has_line $u '^ExecStart=/usr/sbin/laps-agent enroll --token-file /etc/laps/enroll\.token$'
	has_line $u '^ExecStartPost=/bin/rm -f /etc/laps/enroll\.token$'
	has_line $u '^Type=oneshot$'
	has_line $u '^Before=laps-agent\.service$'
	has_line /lib/systemd/system/laps-agent.service '^Wants=.*laps-agent-enroll\.service'
	has_line /lib/systemd/system/laps-agent.service '^After=.*laps-agent-enroll\.service'
	if command -v systemd-analyze >/dev/null; then
		# --man=no: the root has no man(1) to check Documentation= with
		systemd-analyze verify --man=no $u /lib/systemd/system/laps-agent.service \
			/lib/systemd/system/laps-agent.timer >/tmp/verify.log 2>&1 ||
			{ note "systemd-analyze verify failed:"; sed 's/^/      /' /tmp/verify.log; }
		grep -i 'laps' /tmp/verify.log | sed 's/^/    verify: /'
	else
		echo "    (no systemd-analyze in the root: the unit was inspected only)"
	fi
	out=$(laps-agent check-config 2>&1)
	[ $? = 2 ] && printf '%s\n' "$out" | grep -q 'enroll this device first' ||
		note "check-config before enrollment: $out"
	dpkg -P laps-agent laps-backend-rest >/tmp/zerotouch-purge.log 2>&1 || note "dpkg -P failed"
	absent /etc/systemd/system/multi-user.target.wants/laps-agent-enroll.service
	absent /etc/systemd/system/timers.target.wants/laps-agent.timer
	present /etc/laps/enroll.token # cloud-init's file, not the package's
	rm -rf /etc/laps
	same_as_before /tmp/after-purge3
else
	note "dpkg -i with a token file waiting failed:"
	sed 's/^/      /' /tmp/zerotouch.log | tail -n 30
fi
check "zero-touch-enroll-unit: laps-agent-enroll.service installed, enabled, verified, before laps-agent.service; the timer enabled; purge undoes it"
exit 0
