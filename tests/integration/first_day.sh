#!/bin/sh
# Issue 27, "errors that name the cause" and the CLI habits: each message a
# newcomer met, checked by its key words, with the outcome (exit status,
# nothing written).  No real server is needed except laps-escrowd (started
# on 127.0.0.1 with its own test PKI, no identity provider).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"
[ -x "$MKREC" ] || { echo "missing $MKREC" >&2; exit 99; }
command -v openssl >/dev/null || { echo "SKIP: openssl missing"; exit 77; }
. "$top_srcdir/tests/integration/lib/escrowd.sh"
ESCROWD=$top_builddir/laps-escrowd
AGENT=$top_builddir/laps-agent

err_lacks() {
	ntests=$((ntests + 1))
	if grep -qF -- "$1" "$T/err"; then
		fail "stderr mentions '$1'"
		_dump
	else
		echo "ok: stderr does not mention '$1'"
	fi
}

# ---- keys, a file escrow with one record
printf 'correct horse battery\n' >"$T/pass"
printf 'wrong\n' >"$T/badpass"
"$LAPS_GET" keygen -o "$T/admin.key" --passphrase-fd 3 3<"$T/pass" >/dev/null 2>&1 || exit 99
mkdir -m 700 "$T/escrow"
cat >"$T/get.conf" <<CONF
[agent]
accounts = lapsadmin

[escrow]
backend = file
recipients = $T/admin.key.pub

[file]
dir = $T/escrow

[laps-get]
key = $T/admin.key
CONF
chmod 600 "$T/get.conf"
C=$T/get.conf
printf 'pw1\n' | "$MKREC" -c "$C" -d web1 -a lapsadmin -r "$(($(date +%s) - 100))" || exit 99

# ---- a wrong passphrase is said once
expect 7 "wrong passphrase: exit 7" "$LAPS_GET" -c "$C" --passphrase-fd 3 web1 3<"$T/badpass"
err_has "wrong passphrase"
ntests=$((ntests + 1))
n=$(grep -o "passphrase" "$T/err" | wc -l)
[ "$n" -eq 1 ] && echo "ok: 'passphrase' said once" || { fail "'passphrase' said $n times"; _dump; }
check "no password printed" ! -s "$T/out"

# ---- options before the subcommand
expect 0 "laps-get -c FILE report" "$LAPS_GET" -c "$C" report
err_lacks "no host matches"
grep -q "web1" "$T/out" && echo "ok: the report lists web1" || fail "report without web1"
expect 0 "laps-get --config=FILE -v report --json" "$LAPS_GET" --config="$C" report --json

# ---- --expire with a past date
expect 0 "--expire=2020-11-01" "$LAPS_GET" -c "$C" --expire=2020-11-01 web1
err_has "in the past"
err_has "next run"
err_lacks "expires now"

# ---- keygen: the default path, its folder created 0700, no early warning
mkdir -m 700 "$T/home"
expect 0 "keygen without -o on a new account" env HOME="$T/home" "$LAPS_GET" keygen --no-passphrase
check "~/.config/laps/admin.key written" -s "$T/home/.config/laps/admin.key"
ntests=$((ntests + 1))
m=$(stat -c %a "$T/home/.config/laps")
[ "$m" = 700 ] && echo "ok: ~/.config/laps is 0700" || fail "~/.config/laps mode $m"
err_has "NOT protected"
: >"$T/notadir"
expect 10 "keygen -o under a file" "$LAPS_GET" keygen -o "$T/notadir/k/admin.key" --no-passphrase
err_has "$T/notadir"
err_lacks "NOT protected"
check "nothing written" ! -e "$T/notadir/k"
expect 0 "-c FILE keygen -o" "$LAPS_GET" -c "$C" keygen -o "$T/k2.key" --no-passphrase
check "k2 written" -s "$T/k2.key"

# ---- help and man page words
expect 0 "--help" "$LAPS_GET" --help
grep -q "ldap, rest" "$T/out" && echo "ok: --source lists rest" || fail "--source without rest"

# ---- LDAP: a missing ca_file, a server that is down
printf 'secret\n' >"$T/bind.secret"
chmod 600 "$T/bind.secret"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ldap_conf() { # CA_FILE
	sed -e 's/^backend = file$/backend = ldap/' -e '/^\[file\]/,/^dir/d' "$C" >"$T/ldap.conf"
	cat >>"$T/ldap.conf" <<CONF
[ldap]
uri = ldap://127.0.0.1:$port
tls = starttls
ca_file = $1
bind = simple
bind_dn = cn=reader,dc=example,dc=test
bind_secret_file = $T/bind.secret
base = dc=example,dc=test
timeout = 3s
CONF
	chmod 600 "$T/ldap.conf"
}
ldap_conf "$T/no-such-ca.pem"
run "$LAPS_GET" -c "$T/ldap.conf" --passphrase-fd 3 web1 3<"$T/pass"
if grep -q "not installed\|cannot load" "$T/err"; then
	echo "the ldap module is not available: LDAP cases skipped"
else
	ntests=$((ntests + 1))
	[ "$rc" -eq 2 ] && echo "ok: missing [ldap] ca_file: exit 2" || { fail "ca_file rc $rc"; _dump; }
	err_has "$T/no-such-ca.pem"
	err_has "No such file"
	err_lacks "Can't contact"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=ca \
		-keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1 || exit 99
	ldap_conf "$T/ca.pem"
	expect 9 "LDAP server down: exit 9" "$LAPS_GET" -c "$T/ldap.conf" --passphrase-fd 3 web1 3<"$T/pass"
	err_has "connection refused"
	err_has "127.0.0.1:$port"
	err_lacks "StartTLS on"
	# laps-get check-config: the same files, the admin key; nothing contacted
	expect 0 "laps-get -c FILE check-config" "$LAPS_GET" -c "$T/ldap.conf" check-config
	grep -q "OK" "$T/out" && echo "ok: check-config says OK" || fail "no OK"
	grep -q "passphrase-protected" "$T/out" && echo "ok: names the key's protection" || fail "key"
	chmod 644 "$T/bind.secret"
	expect 2 "laps-get check-config: 0644 bind secret" "$LAPS_GET" check-config -c "$T/ldap.conf"
	err_has "[ldap] bind_secret_file"
	err_has "0644"
	chmod 600 "$T/bind.secret"
	ldap_conf "$T/no-such-ca.pem"
	expect 2 "laps-get check-config: missing ca_file" "$LAPS_GET" -c "$T/ldap.conf" check-config
	err_has "$T/no-such-ca.pem"
	expect 2 "laps-get check-config: missing admin key" "$LAPS_GET" -c "$C" check-config -k "$T/nokey"
	err_has "$T/nokey"
fi

# ---- laps-agent check-config opens the files a run opens
if [ -z "${SKIP_AGENT_CC:-}" ]; then
	mkdir -m 700 "$T/cc"
	printf 'not a certificate\n' >"$T/cc/ca.pem"
	chmod 644 "$T/bind.secret"
	cat >"$T/cc/laps.conf" <<CONF
[agent]
accounts = lapsadmin
state_dir = $T/cc/state

[escrow]
backend = ldap
recipients = $T/admin.key.pub

[ldap]
uri = ldap://127.0.0.1:$port
ca_file = $T/cc/missing-ca.pem
bind = simple
bind_dn = cn=h,dc=example,dc=test
bind_secret_file = $T/bind.secret
dn = cn=h,dc=example,dc=test
CONF
	chmod 600 "$T/cc/laps.conf"
	expect 2 "agent check-config: missing ca_file, 0644 bind secret" "$AGENT" -c "$T/cc/laps.conf" check-config
	err_has "[ldap] ca_file"
	err_has "$T/cc/missing-ca.pem"
	err_has "[ldap] bind_secret_file"
	err_has "0644"
	check "no OK printed" ! -s "$T/out"
	sed -i "s|missing-ca.pem|ca.pem|" "$T/cc/laps.conf"
	chmod 600 "$T/bind.secret"
	expect 2 "agent check-config: a CA file without a certificate" "$AGENT" -c "$T/cc/laps.conf" check-config
	err_has "no PEM certificate"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=ca \
		-keyout "$T/cc/ca.key" -out "$T/cc/ca.pem" >/dev/null 2>&1 || exit 99
	expect 0 "agent check-config: every file opens" "$AGENT" -c "$T/cc/laps.conf" check-config
	# the files parse as GnuTLS (libldap) will load them: a CA file with
	# no CA in it, a client certificate with another certificate's key
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=leaf \
		-addext basicConstraints=critical,CA:FALSE -keyout "$T/cc/leaf.key" \
		-out "$T/cc/leaf.pem" >/dev/null 2>&1 || exit 99
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other \
		-keyout "$T/cc/other.key" -out "$T/cc/other.pem" >/dev/null 2>&1 || exit 99
	chmod 600 "$T/cc/leaf.key" "$T/cc/other.key"
	sed "s|$T/cc/ca.pem|$T/cc/leaf.pem|" "$T/cc/laps.conf" >"$T/cc/noca.conf"
	chmod 600 "$T/cc/noca.conf"
	expect 2 "agent check-config: a CA file whose certificate is no CA" "$AGENT" -c "$T/cc/noca.conf" check-config
	err_has "[ldap] ca_file"
	err_has "no CA certificate"
	check "no OK printed" ! -s "$T/out"
	{ cat "$T/cc/laps.conf"; printf 'cert_file = %s\nkey_file = %s\n' "$T/cc/leaf.pem" "$T/cc/other.key"; } >"$T/cc/pair.conf"
	chmod 600 "$T/cc/pair.conf"
	expect 2 "agent check-config: [ldap] certificate and key that do not match" "$AGENT" -c "$T/cc/pair.conf" check-config
	err_has "$T/cc/leaf.pem"
	err_has "$T/cc/other.key"
	err_has "do not match"
	sed -i "s|$T/cc/other.key|$T/cc/leaf.key|" "$T/cc/pair.conf"
	expect 0 "agent check-config: [ldap] certificate with its own key" "$AGENT" -c "$T/cc/pair.conf" check-config
	if [ -x "$LAPS_GET" ]; then
		sed "s|$T/cc/leaf.key|$T/cc/other.key|; s|^dn = .*|base = dc=example,dc=test|" "$T/cc/pair.conf" >"$T/cc/get-pair.conf"
		chmod 600 "$T/cc/get-pair.conf"
		expect 2 "laps-get check-config: [ldap] certificate and key that do not match" "$LAPS_GET" -c "$T/cc/get-pair.conf" check-config -k "$T/admin.key"
		err_has "do not match"
	fi
fi

# ---- REST: missing CA file, certificate and key that do not match
pki_ca "$T/pki" "first day CA" || exit 99
for n in testhost admin-robot other; do
	pki_sign "$T/pki" $n 'extendedKeyUsage=clientAuth' || exit 99
done
pki_sign "$T/pki" server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth' || exit 99
pki_ca "$T/pki2" "another CA" || exit 99
pki_sign "$T/pki2" stranger 'extendedKeyUsage=clientAuth' || exit 99
rest_conf() { # URL CA CERT KEY
	sed -e 's/^backend = file$/backend = rest/' -e '/^\[file\]/,/^dir/d' "$C" >"$T/rest.conf"
	printf '%s\n' "[rest]" "url = $1" "auth = mtls" "ca_file = $2" "cert_file = $3" \
		"key_file = $4" "timeout = 3s" "retries = 0" >>"$T/rest.conf"
	chmod 600 "$T/rest.conf"
}
rest_conf https://127.0.0.1:1 "$T/no-such-ca.pem" "$T/pki/admin-robot.crt" "$T/pki/admin-robot.key"
run "$LAPS_GET" -c "$T/rest.conf" --passphrase-fd 3 web1 3<"$T/pass"
if grep -q "not installed\|cannot load" "$T/err"; then
	echo "the rest module is not available: REST cases skipped"
	finish
fi
ntests=$((ntests + 1))
[ "$rc" -eq 2 ] && echo "ok: missing [rest] ca_file: exit 2" || { fail "rest ca_file rc $rc"; _dump; }
err_has "[rest] ca_file $T/no-such-ca.pem"
err_has "No such file"
rest_conf https://127.0.0.1:1 "$T/pki/ca.crt" "$T/pki/admin-robot.crt" "$T/pki/testhost.key"
expect 2 "cert_file and key_file of two identities" "$LAPS_GET" -c "$T/rest.conf" --passphrase-fd 3 web1 3<"$T/pass"
err_has "$T/pki/admin-robot.crt"
err_has "$T/pki/testhost.key"
err_has "do not match"
err_lacks "memory blob"
expect 2 "laps-get check-config: the mismatched pair" "$LAPS_GET" -c "$T/rest.conf" check-config
err_has "do not match"
check "no OK" ! -s "$T/out"
sed -e 's/^backend = ldap$/backend = rest/' -e '/^\[ldap\]/,$d' "$T/cc/laps.conf" >"$T/cc/rest-agent.conf"
sed -n '/^\[rest\]/,$p' "$T/rest.conf" >>"$T/cc/rest-agent.conf"
chmod 600 "$T/cc/rest-agent.conf"
expect 2 "agent check-config: the mismatched pair" "$AGENT" -c "$T/cc/rest-agent.conf" check-config
err_has "do not match"

# ---- laps-escrowd: its SQLite file cannot be opened
cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/pki/server.crt
key_file = $T/pki/server.key
client_ca = $T/pki/ca.crt

[store]
url = sqlite:$T/no-such-dir/escrow.db

[authz]
cert_admins = admin-robot=laps.read,laps.secret,laps.expire
CONF
chmod 600 "$T/escrowd.conf"
run timeout 10 "$ESCROWD" -c "$T/escrowd.conf" --port-file "$T/port0"
ntests=$((ntests + 1))
[ "$rc" -ne 0 ] && echo "ok: laps-escrowd refuses to start ($rc)" || fail "escrowd started"
err_has "$T/no-such-dir/escrow.db"
err_has "No such file or directory"
check "no port file" ! -e "$T/port0"

# ---- laps-escrowd check-config opens what a start opens
sed -i "s|^url = sqlite:.*|url = sqlite:$T/escrow.db|" "$T/escrowd.conf"
expect 0 "escrowd check-config: OK" "$ESCROWD" -c "$T/escrowd.conf" check-config
cp "$T/escrowd.conf" "$T/escrowd.good"
sed -i "s|^cert_file = .*|cert_file = $T/pki/missing.crt|" "$T/escrowd.conf"
expect 2 "escrowd check-config: missing cert_file" "$ESCROWD" -c "$T/escrowd.conf" check-config
err_has "[server] cert_file"
err_has "$T/pki/missing.crt"
check "not OK" ! -s "$T/out"
cp "$T/pki/server.key" "$T/loose.key"
chmod 644 "$T/loose.key"
sed "s|^key_file = .*|key_file = $T/loose.key|" "$T/escrowd.good" >"$T/escrowd.conf"
expect 2 "escrowd check-config: 0644 key" "$ESCROWD" -c "$T/escrowd.conf" check-config
err_has "[server] key_file"
err_has "0644"
sed "s|^key_file = .*|key_file = $T/pki/testhost.key|" "$T/escrowd.good" >"$T/escrowd.conf"
expect 2 "escrowd check-config: a key of another certificate" "$ESCROWD" -c "$T/escrowd.conf" check-config
err_has "do not match"
sed "s|^client_ca = .*|client_ca = $T/pki/testhost.crt|" "$T/escrowd.good" >"$T/escrowd.conf"
expect 2 "escrowd check-config: client_ca without a CA" "$ESCROWD" -c "$T/escrowd.conf" check-config
err_has "[server] client_ca"
err_has "no CA certificate"
sed "s|^url = sqlite:.*|url = sqlite:$T/no-such-dir/escrow.db|" "$T/escrowd.good" >"$T/escrowd.conf"
expect 2 "escrowd check-config: no database folder" "$ESCROWD" -c "$T/escrowd.conf" check-config
err_has "$T/no-such-dir"
err_has "No such file"
cp "$T/escrowd.good" "$T/escrowd.conf"
chmod 600 "$T/escrowd.conf"

# ---- laps-escrowd up: a device certificate used by an admin, an untrusted one
on_exit '[ -n "${ESCROWD_PID:-}" ] && kill "$ESCROWD_PID" 2>/dev/null; wait 2>/dev/null'
escrowd_spawn "$ESCROWD" "$T/escrowd.conf" "$T" || { cat "$T/escrowd.log" >&2; exit 99; }
rest_conf "$ESCROWD_URL" "$T/pki/ca.crt" "$T/pki/testhost.crt" "$T/pki/testhost.key"
rest_conf "$ESCROWD_URL" "$T/pki2/ca.crt" "$T/pki/admin-robot.crt" "$T/pki/admin-robot.key"
expect 9 "the server's certificate from another CA: exit 9" "$LAPS_GET" -c "$T/rest.conf" report
err_has "[rest] ca_file $T/pki2/ca.crt"
rest_conf "$ESCROWD_URL" "$T/pki/ca.crt" "$T/pki/testhost.crt" "$T/pki/testhost.key"
expect 5 "an admin with a device certificate: exit 5" "$LAPS_GET" -c "$T/rest.conf" report
err_has "taken for the device 'testhost'"
err_has "cert_admins"
rest_conf "$ESCROWD_URL" "$T/pki/ca.crt" "$T/pki2/stranger.crt" "$T/pki2/stranger.key"
run "$LAPS_GET" -c "$T/rest.conf" report
ntests=$((ntests + 1))
[ "$rc" -ne 0 ] && echo "ok: an untrusted client certificate is refused ($rc)" || fail "stranger accepted"
err_has "the server says"
sed 's/^/  | /' "$T/err"
finish
