# rest_lib.sh — shared set-up for the REST backend tests (sourced by bash
# drivers after agent_lib.sh): a test PKI, the real OIDC issuer
# (lib/oidc.sh), a real laps-escrowd on SQLite on 127.0.0.1, configs for the
# agent in each auth mode and for an admin.
#
# laps-escrowd is $top_builddir/laps-escrowd.  LAPS_ESCROWD may point at
# another build of it, for development only (before server/ is in the tree).
: "${top_builddir:=.}"
ESCROWD=${LAPS_ESCROWD:-$top_builddir/laps-escrowd}
LAPSGET=$top_builddir/laps-get/laps-get
HOSTILE=$top_srcdir/tests/integration/lib/hostile_https.py
[ -x "$ESCROWD" ] || { echo "SKIP: laps-escrowd not built ($ESCROWD)"; exit 77; }
[ -x "$LAPSGET" ] || { echo "laps-get not built: $LAPSGET"; exit 99; }
for t in openssl curl python3 node; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
. "$top_srcdir/tests/integration/lib/oidc.sh"

ESCROWD_PID= HOSTILE_PID=
rest_cleanup() {
	[ -n "$HOSTILE_PID" ] && kill "$HOSTILE_PID" 2>/dev/null
	[ -n "$ESCROWD_PID" ] && kill "$ESCROWD_PID" 2>/dev/null
	[ -n "$HOSTILE_PID" ] && wait "$HOSTILE_PID" 2>/dev/null
	[ -n "$ESCROWD_PID" ] && wait "$ESCROWD_PID" 2>/dev/null
	oidc_cleanup
	rm -rf "$T"
}
trap rest_cleanup EXIT

. "$top_srcdir/tests/integration/lib/escrowd.sh"
# pki_cert CN EXT: a key + certificate signed by the test CA
pki_cert() {
	pki_sign "$T/pki" "$1" "$2" || { echo "openssl failed for $1 ($T/pki/openssl.log)" >&2; exit 99; }
}
pki_setup() {
	pki_ca "$T/pki" "laps rest test CA" || { echo "openssl failed for the CA" >&2; exit 99; }
	pki_cert server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth'
	pki_cert testhost 'extendedKeyUsage=clientAuth'
	pki_cert otherhost 'extendedKeyUsage=clientAuth'
	pki_cert admin-robot 'extendedKeyUsage=clientAuth'
}

escrowd_conf() {
	cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:${ESCROWD_PORT:-0}
cert_file = $T/pki/server.crt
key_file = $T/pki/server.key
client_ca = $T/pki/ca.crt
threads = 2
timeout = 10s

[store]
url = sqlite:$T/escrow.db
history_size = 5

[oidc]
issuer = $OIDC_ISSUER
audience = $OIDC_AUDIENCE
ca_file = $OIDC_CA

[authz]
cert_admins = admin-robot=laps.read,laps.secret,laps.expire

[limits]
rate = 1000
burst = 10000
CONF
	chmod 600 "$T/escrowd.conf"
}

# escrowd_start: start (or restart on the same port and database)
escrowd_start() {
	escrowd_spawn "$ESCROWD" "$T/escrowd.conf" "$T" && return 0
	cat "$T/escrowd.log" >&2
	grep -q "no token support" "$T/escrowd.log" && { echo "SKIP: laps-escrowd without token support"; exit 77; }
	exit 99
}
escrowd_kill() { # SIGKILL: no graceful shutdown
	[ -n "$ESCROWD_PID" ] && kill -KILL "$ESCROWD_PID" 2>/dev/null
	wait "$ESCROWD_PID" 2>/dev/null
	ESCROWD_PID=
}
escrowd_restart() {
	escrowd_kill
	escrowd_conf # the same port: the agent's config still points at it
	escrowd_start
}

# hostile_start: the hostile front (lib/hostile_https.py) before laps-escrowd
hostile_start() {
	: >"$T/plan"
	rm -f "$T/hostile.port"
	python3 "$HOSTILE" "$T/pki/server.crt" "$T/pki/server.key" "$ESCROWD_URL" \
		"$T/pki/ca.crt" "$T/plan" "$T/hostile.port" 2>"$T/hostile.log" &
	HOSTILE_PID=$!
	for _ in $(seq 200); do [ -s "$T/hostile.port" ] && break; sleep 0.05; done
	[ -s "$T/hostile.port" ] || { cat "$T/hostile.log" >&2; exit 99; }
	HOSTILE_URL=https://127.0.0.1:$(cat "$T/hostile.port")
}

rest_setup() {
	pki_setup
	oidc_start "$T/oidc" --quiet
	rc=$?
	[ $rc -eq 0 ] || exit $rc
	trap rest_cleanup EXIT
	escrowd_conf
	escrowd_start
}

# rest_agent_setup: where an agent test against laps-escrowd starts: the
# alternate root, the agent's state directory, the recipients' key pair
# ($T/admin.key*), then rest_setup.
rest_agent_setup() {
	make_root "$T/root"
	mkdir -p "$T/state" && chmod 0700 "$T/state"
	"$TOOL" keygen "$T" >/dev/null || exit 99
	rest_setup
}

# rest_conf MODE [URL] [extra [rest] lines...]: the agent's $T/laps.conf for
# device testhost.  MODE client_credentials | private_key_jwt | mtls | bearer.
rest_conf() {
	local mode=$1 url=${2:-$ESCROWD_URL}
	shift 2 2>/dev/null || shift $#
	write_conf lapsadmin "${METHOD:-shadow}" "[rest]" "url = $url" "auth = $mode" \
		"ca_file = $T/pki/ca.crt" "timeout = 3s" "retries = 3" "budget = 60s" "$@"
	case $mode in
	client_credentials)
		printf '%s\n' "token_url = $OIDC_TOKEN_ENDPOINT" "client_id = testhost" \
			"client_secret_file = $T/testhost.secret" "scope = laps.device" >>"$T/laps.conf" ;;
	private_key_jwt)
		printf '%s\n' "token_url = $OIDC_TOKEN_ENDPOINT" "client_id = testhost" \
			"key_file = $T/testhost.jwk.key" "scope = laps.device" >>"$T/laps.conf" ;;
	mtls)
		printf '%s\n' "cert_file = $T/pki/testhost.crt" "key_file = $T/pki/testhost.key" >>"$T/laps.conf" ;;
	bearer)
		printf '%s\n' "bearer_file = $T/testhost.bearer" >>"$T/laps.conf" ;;
	esac
	sed -i 's/^backend = file$/backend = rest/' "$T/laps.conf"
	# the token issuer's TLS is verified with its own CA: one bundle for both
	cat "$T/pki/ca.crt" "$OIDC_CA" >"$T/cas.pem"
	sed -i "s|^ca_file = .*|ca_file = $T/cas.pem|" "$T/laps.conf"
	# the admin's view of the same escrow (secret right, through a certificate)
	admin_conf "$ESCROWD_URL"
}

# admin_conf URL: $T/admin.conf, the agent's config with admin credentials
# (used by test_agent_tool check: decrypt the escrow, compare with shadow)
admin_conf() {
	sed -e '/^\[rest\]/,$d' "$T/laps.conf" >"$T/admin.conf"
	printf '%s\n' "[rest]" "url = $1" "auth = mtls" "ca_file = $T/pki/ca.crt" \
		"cert_file = $T/pki/admin-robot.crt" "key_file = $T/pki/admin-robot.key" \
		"timeout = 5s" >>"$T/admin.conf"
	chmod 600 "$T/admin.conf"
}

check_rest_invariant() { "$TOOL" check "$T/admin.conf" "$T/admin.key" "${1:-lapsadmin}"; }
record_of() { "$TOOL" show "$T/admin.conf" "${1:-lapsadmin}"; }
