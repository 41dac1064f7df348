#!/usr/bin/env bash
# scripts/demo.sh — the main job, end to end, on a fresh Debian 12 (as root):
#
#   install dependencies; build; start a throw-away OpenLDAP slapd on
#   127.0.0.1 (test CA, StartTLS, the laps schema and ACLs); create an admin
#   key pair; rotate the password of a sandbox account `lapsadmin` that lives
#   in an alternate root (never the machine's /etc); read it back with
#   laps-get and check it against the account's hash; force a second
#   rotation with `laps-get --expire` and show the history.
#
#   Then the same job through the cloud path: start laps-escrowd (SQLite,
#   with its EST enrollment service) and an OpenID Connect issuer
#   (oidc-provider) on 127.0.0.1; an administrator, alice, signs in to
#   laps-get with the device authorization grant (the demo approves the
#   code on the issuer's page the way she would in a browser) and creates
#   a one-use enrollment token; the device enrolls with it (`laps-agent
#   enroll`: its key is made on the device, laps-escrowd issues a
#   short-lived client certificate) and rotates the account through
#   `backend = rest` with that certificate; alice reads the password back,
#   and it is checked against the hash; the server's audit log names her.
#
#   At the end of the cloud path it prints the URL of the admin web console
#   (docs/CONSOLE.md) that laps-escrowd serves; with --serve it keeps
#   slapd, laps-escrowd and the issuer up until Ctrl-C so that a person can
#   open it (sign in as any name on the issuer's page, open
#   WORKDIR/admin.key, reveal host1.example.test's password).
#
# Everything lives in a temporary directory removed at the end, and every
# server is stopped (LAPS_DEMO_KEEP=1 keeps the directory;
# LAPS_DEMO_BUILD=DIR uses that existing build directory instead of building).
set -euo pipefail
serve=0
case ${1:-} in
--serve) serve=1 ;;
"") ;;
*) echo "usage: $0 [--serve]" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$top/scripts/deps.sh"
laps_install_deps

work=$(mktemp -d "${TMPDIR:-/tmp}/laps-demo.XXXXXX")
chmod 0700 "$work"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

build=${LAPS_DEMO_BUILD:-$work/build}
if [ -z "${LAPS_DEMO_BUILD:-}" ]; then
	step "building laps (out of tree, in $build)"
	(cd "$top" && autoreconf -fi >/dev/null 2>&1)
	mkdir -p "$build"
	(cd "$build" && "$top/configure" -q >/dev/null && make -s -j"$(nproc)" >/dev/null)
fi
agent="$build/laps-agent"
get="$build/laps-get/laps-get"
escrowd="$build/laps-escrowd"
# the backend modules (ldap.so, rest.so) from the build tree, not installed
export LAPS_BACKEND_DIR="$build/backends/.libs"

step "starting a throw-away slapd on 127.0.0.1"
export top_srcdir="$top"
. "$top/tests/integration/lib/slapd.sh"
escrowd_pid=
cleanup() {
	slapd_cleanup >/dev/null 2>&1 || true
	if [ -n "$escrowd_pid" ]; then
		kill "$escrowd_pid" 2>/dev/null || true
		wait "$escrowd_pid" 2>/dev/null || true
	fi
	[ "$(type -t oidc_cleanup)" = function ] && { oidc_cleanup >/dev/null 2>&1 || true; }
	[ "${LAPS_DEMO_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
slapd_start "$work/slapd" --quiet
echo "slapd pid $SLAPD_PID, $LDAP_URI (StartTLS) and $LDAPS_URI, base $LDAP_BASE"

step "a sandbox root with the account lapsadmin (alternate root, not /etc)"
root="$work/root"
mkdir -p "$root/etc"
cat >"$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/bash
lapsadmin:x:1001:1001:LAPS managed admin:/home/lapsadmin:/bin/bash
alice:x:1002:1002:Alice:/home/alice:/bin/bash
PASSWD
cat >"$root/etc/shadow" <<SHADOW
root:*:19000:0:99999:7:::
lapsadmin:\$6\$oldsalt\$known.to.too.many.people.............................................:19000:0:99999:7:::
alice:!:19000:0:99999:7:::
SHADOW
chmod 0644 "$root/etc/passwd"
chmod 0640 "$root/etc/shadow"
grep lapsadmin "$root/etc/shadow"

step "an administrator key pair (laps-get keygen)"
"$get" keygen -o "$work/admin.key" --comment "demo admin" --no-passphrase

step "laps.conf for the agent (device host1, escrow to LDAP, schema laps)"
mkdir -p "$work/etc" "$work/state"
cat >"$work/etc/laps.conf" <<CONF
[agent]
accounts = lapsadmin
method = shadow
root = $root
state_dir = $work/state
password_age = 30d

[password]
mode = password
length = 24
complexity = 4

[escrow]
backend = ldap
recipients = $work/admin.key.pub
device = host1
history = 5

[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $(slapd_device_dn host1)
bind_secret_file = $(slapd_device_secret host1)
dn = $(slapd_device_dn host1)
schema = laps
CONF
cat >"$work/etc/laps-get.conf" <<CONF
[agent]
accounts = lapsadmin

[escrow]
backend = ldap

[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $LDAP_READER_DN
bind_secret_file = $LDAP_READER_SECRET
base = $LDAP_DEVICES_BASE
filter = (|(cn=%h)(dNSHostName=%f))
schema = laps

[laps-get]
key = $work/admin.key
CONF
chmod 0600 "$work/etc/"*.conf
"$agent" -c "$work/etc/laps.conf" check-config

step "laps-agent run (no record yet: rotation due)"
"$agent" -c "$work/etc/laps.conf" -v run
grep lapsadmin "$root/etc/shadow"

step "laps-get host1 (decrypts with the admin key)"
pw=$("$get" -c "$work/etc/laps-get.conf" host1)
echo "password: $pw"
verify() { # PASSWORD: does it verify against lapsadmin's hash?
	local hash
	hash=$(awk -F: '$1 == "lapsadmin" {print $2}' "$root/etc/shadow")
	if PW="$1" H="$hash" perl -e 'exit(crypt($ENV{PW}, $ENV{H}) eq $ENV{H} ? 0 : 1)'; then
		echo "check: the escrowed password verifies against lapsadmin's hash in $root/etc/shadow"
	else
		echo "check FAILED: escrowed password does not match the local hash" >&2
		exit 1
	fi
}
verify "$pw"

step "laps-agent run again (nothing due: silent)"
"$agent" -c "$work/etc/laps.conf" run && echo "(exit 0, nothing printed)"

step "laps-get --expire host1 (an admin forces a rotation), then laps-agent run"
"$get" -c "$work/etc/laps-get.conf" --expire host1
"$agent" -c "$work/etc/laps.conf" -v run
"$get" -c "$work/etc/laps-get.conf" --json --history host1

step "laps-agent status"
"$agent" -c "$work/etc/laps.conf" status

# ---------------------------------------------------------------- the cloud path
step "the cloud path: an OpenID Connect issuer (oidc-provider) on 127.0.0.1"
. "$top/tests/integration/lib/oidc.sh"
oidc_start "$work/oidc" --quiet
echo "issuer $OIDC_ISSUER (pid $OIDC_PID)"
# the admin tool's public client (alice may also create enrollment tokens)
oidc_add_admin_client laps-get "openid offline_access laps.read laps.secret laps.expire laps.enroll"
oidc_add_user alice

step "laps-escrowd (SQLite) on 127.0.0.1, HTTPS with a test CA, EST with its own issuing CA"
pki="$work/pki"
mkdir -m 700 "$pki"
(
	cd "$pki"
	exec 2>openssl.log
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj "/CN=laps demo CA" -keyout ca.key -out ca.crt
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
		-keyout server.key -out server.csr
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
		-extfile server.ext -out server.crt
	# the CA laps-escrowd issues device certificates with ([est])
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj "/CN=laps demo device CA" -keyout est-ca.key -out est-ca.crt
	chmod 600 ./*.key
) || { cat "$pki/openssl.log" >&2; exit 1; }
cat "$pki/ca.crt" "$OIDC_CA" >"$work/etc/cas.pem"
# the web console's files: libsodium from npm (console/package-lock.json)
console_dir=
if (mkdir -p "$work/console-npm" && cp "$top/console/package.json" "$top/console/package-lock.json" \
	"$work/console-npm/" && cd "$work/console-npm" &&
	npm ci --omit=dev --no-audit --no-fund --prefer-offline --loglevel=error >npm.log 2>&1) &&
	sh "$top/console/build.sh" "$top/console/src" "$work/console-npm/node_modules" "$work/console"; then
	console_dir=$work/console
else
	echo "(npm ci for the console failed: the demo goes on without it)"
fi
cat >"$work/etc/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $pki/server.crt
key_file = $pki/server.key
threads = 2

[est]
ca_cert = $pki/est-ca.crt
ca_key = $pki/est-ca.key
lifetime = 12h

[store]
url = sqlite:$work/escrow.db

[oidc]
issuer = $OIDC_ISSUER
audience = $OIDC_AUDIENCE
ca_file = $OIDC_CA

[authz]
units = demo:host*.example.test
CONF
[ -z "$console_dir" ] || printf '%s\n' "" "[console]" "enable = yes" "dir = $console_dir" \
	"scope = openid laps.read laps.secret laps.expire" >>"$work/etc/escrowd.conf"
chmod 600 "$work/etc/escrowd.conf"
"$escrowd" -c "$work/etc/escrowd.conf" --port-file "$work/escrowd.port" 2>"$work/escrowd.log" &
escrowd_pid=$!
for _ in $(seq 100); do [ -s "$work/escrowd.port" ] && break; sleep 0.05; done
[ -s "$work/escrowd.port" ] || { cat "$work/escrowd.log" >&2; exit 1; }
escrow_url="https://127.0.0.1:$(cat "$work/escrowd.port")"
echo "laps-escrowd pid $escrowd_pid, $escrow_url, store $work/escrow.db"

# alice_signs_in OUT CMD...: run laps-get (CMD) in the background, sign
# alice in on the issuer's page with the code it prints, wait for it
alice_signs_in() {
	local out=$1 pid code=
	shift
	XDG_CACHE_HOME="$work/cache" "$@" >"$out" 2>"$work/get.err" &
	pid=$!
	for _ in $(seq 100); do
		code=$(sed -n 's/.*enter the code \([^ ]*\).*/\1/p' "$work/get.err")
		[ -n "$code" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/get.err"
	[ -n "$code" ] || { wait "$pid"; return; } # a cached sign-in: no code asked
	echo "(the demo signs alice in on the issuer's page and enters $code, as she would in a browser)"
	oidc_approve_device "$code" alice
	wait "$pid"
}

cat >"$work/etc/laps-get-rest.conf" <<CONF
[escrow]
backend = rest

[rest]
url = $escrow_url
ca_file = $work/etc/cas.pem
auth = device_code
token_url = $OIDC_TOKEN_ENDPOINT
device_auth_url = $OIDC_DEVICE_ENDPOINT
client_id = laps-get
scope = openid offline_access laps.read laps.secret laps.expire laps.enroll

[laps-get]
key = $work/admin.key
CONF
chmod 0600 "$work/etc/laps-get-rest.conf"
mkdir -m 700 "$work/cache"

step "alice creates a one-use enrollment token for host1 (laps-get enroll-token create)"
(umask 077 && alice_signs_in "$work/enroll.token" "$get" -c "$work/etc/laps-get-rest.conf" \
	enroll-token create --unit demo --uses 1 --expires 1h --name-pattern 'host1.*')
echo "token written to $work/enroll.token (0600; cloud-init or the image build puts it on the device)"

step "laps.conf for the agent: backend = rest, a client certificate it does not have yet"
mkdir -p "$work/state-rest"
sed -e '/^\[escrow\]/,$d' -e "s|^state_dir = .*|state_dir = $work/state-rest|" \
	"$work/etc/laps.conf" >"$work/etc/laps-rest.conf"
cat >>"$work/etc/laps-rest.conf" <<CONF
[escrow]
backend = rest
recipients = $work/admin.key.pub
device = host1.example.test

[rest]
url = $escrow_url
ca_file = $work/etc/cas.pem
auth = mtls
cert_file = $work/etc/device.crt
key_file = $work/etc/device.key
CONF
chmod 0600 "$work/etc/laps-rest.conf"
"$agent" -c "$work/etc/laps-rest.conf" check-config || true

step "laps-agent enroll --token-file: key made here, certificate from laps-escrowd (EST)"
"$agent" -c "$work/etc/laps-rest.conf" enroll --token-file "$work/enroll.token"
rm -f "$work/enroll.token"
openssl x509 -in "$work/etc/device.crt" -noout -subject -issuer -enddate
"$agent" -c "$work/etc/laps-rest.conf" check-config

step "laps-agent run through laps-escrowd (no record there yet: rotation due)"
"$agent" -c "$work/etc/laps-rest.conf" -v run
grep lapsadmin "$root/etc/shadow"

step "laps-get host1 over REST: alice is still signed in (cached token)"
alice_signs_in "$work/pw" "$get" -c "$work/etc/laps-get-rest.conf" host1
pw=$(cat "$work/pw")
rm -f "$work/pw"
echo "password: $pw"
verify "$pw"

step "laps-agent status: the certificate, its expiry and renewal"
"$agent" -c "$work/etc/laps-rest.conf" status | sed -n '1,/^account:/p' | sed '$d'

step "the server's audit log names the person who read it"
if command -v sqlite3 >/dev/null; then
	sqlite3 -readonly "$work/escrow.db" \
		"SELECT datetime(time, 'unixepoch'), actor, action, device FROM audit WHERE action = 'read_secret'"
fi

if [ -n "$console_dir" ]; then
	oidc_add_client "{\"client_id\":\"laps-console\",\"client_name\":\"laps console\",\
\"grant_types\":[\"authorization_code\"],\"response_types\":[\"code\"],\
\"redirect_uris\":[\"$escrow_url/console/\"],\"token_endpoint_auth_method\":\"none\",\
\"scope\":\"openid laps.read laps.secret laps.expire\"}"
	step "the admin web console: $escrow_url/console/"
	echo "(test CA: $pki/ca.crt and $OIDC_CA; sign in as any name, then open $work/admin.key)"
	if [ "$serve" = 1 ]; then
		LAPS_DEMO_KEEP=1
		echo "servers stay up until Ctrl-C (--serve); $work is kept"
		trap 'exit 0' INT TERM
		while kill -0 "$escrowd_pid" 2>/dev/null; do sleep 1; done
	fi
fi

step "done: slapd, laps-escrowd and the issuer stopped, $work removed"
