#!/bin/bash
# run-est.sh — EST enrollments/s and renewals/s on one laps-escrowd
# (SQLite, or PostgreSQL with -s pg), with curl as the client: every
# request is one curl process with a new TLS handshake, as a fleet of
# devices each enrolling once; then the same number of enrollments over
# kept-alive connections (one curl per worker, RFC 7030 requests chained
# with curl's "next"), which leaves the server's own work (parse, sign,
# store): the difference says what dominates.  With -k pkcs11 the issuing
# CA key is in a SoftHSM token ([est] ca_key = pkcs11:..., the pkcs11
# engine).  Numbers only.
# Usage (from the build directory):
#   bench/run-est.sh [-n requests] [-c concurrency] [-s sqlite|pg] [-k file|pkcs11]
# Defaults: 300 requests, concurrency 4, sqlite, file.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/lib/postgres.sh"

n=300 conc=4 store=sqlite keysrc=file
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; shift ;;
	-c) conc=$2; shift ;;
	-s) store=$2; shift ;;
	-k) keysrc=$2; shift ;;
	*) echo "usage: $0 [-n requests] [-c concurrency] [-s sqlite|pg] [-k file|pkcs11]" >&2; exit 2 ;;
	esac
	shift
done
escrowd=$top_builddir/laps-escrowd
[ -x "$escrowd" ] || { echo "build laps-escrowd first" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/laps-bench-est.XXXXXX") || exit 2
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; pg_cleanup; wait 2>/dev/null; rm -rf "$T"' EXIT
ssl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $* failed" >&2; exit 2; }; }
mkca() { ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$1" \
	-keyout "$T/$1.key" -out "$T/$1.crt"; }
mkcert() { # CN EXT
	printf '%s\n' "$2" >"$T/$1.ext"
	ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" -keyout "$T/$1.key" -out "$T/$1.csr"
	ssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
		-extfile "$T/$1.ext" -out "$T/$1.crt"
}
mkca ca; mkca estca; chmod 600 "$T/estca.key"
mkcert server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth'
mkcert provisioner 'extendedKeyUsage=clientAuth'
url=sqlite:$T/escrow.db
cakey=$T/estca.key
if [ "$keysrc" = pkcs11 ]; then # the CA key into a SoftHSM token in $T (see tests/integration/est_pkcs11.sh)
	engine=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -1)
	[ -n "$engine" ] && command -v softhsm2-util >/dev/null || { echo "no softhsm2 / pkcs11 engine" >&2; exit 2; }
	mkdir -m 700 "$T/tokens"
	printf '%s\n' "directories.tokendir = $T/tokens" "objectstore.backend = file" "log.level = ERROR" >"$T/softhsm2.conf"
	export SOFTHSM2_CONF=$T/softhsm2.conf
	softhsm2-util --init-token --free --label ca --so-pin 87654321 --pin 12345678 >/dev/null || exit 2
	ssl pkcs8 -topk8 -nocrypt -in "$T/estca.key" -out "$T/estca.p8"
	softhsm2-util --import "$T/estca.p8" --token ca --label estca --id 01 --pin 12345678 >/dev/null || exit 2
	rm -f "$T/estca.p8"
	(umask 077; printf 12345678 >"$T/pin")
	printf '%s\n' "openssl_conf = i" "[i]" "engines = e" "[e]" "pkcs11 = p" "[p]" "engine_id = pkcs11" \
		"dynamic_path = $engine" "MODULE_PATH = /usr/lib/softhsm/libsofthsm2.so" "init = 0" >"$T/openssl.cnf"
	cakey="pkcs11:token=ca;object=estca;type=private;pin-source=file:$T/pin"
fi
if [ "$store" = pg ]; then
	pg_start --quiet || { echo "no PostgreSQL" >&2; exit 2; }
	url=postgresql:$PG_CONNINFO
fi
cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
threads = 4
[store]
url = $url
[authz]
cert_admins = provisioner=laps.enroll
[limits]
rate = 100000
burst = 1000000
[est]
ca_cert = $T/estca.crt
ca_key = $cakey
CONF
envs=()
[ "$keysrc" = pkcs11 ] && envs=("OPENSSL_CONF=$T/openssl.cnf")
env "${envs[@]}" "$escrowd" -c "$T/escrowd.conf" --port-file "$T/port" 2>"$T/escrowd.log" &
PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
EST=https://127.0.0.1:$(cat "$T/port")/.well-known/est

mkdir "$T/req"
t0=$(date +%s.%N)
for i in $(seq "$((2 * n))"); do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=dev$i" \
		-keyout "$T/req/dev$i.key" -outform DER 2>/dev/null | openssl base64 >"$T/req/dev$i.b64"
done
t1=$(date +%s.%N)
t1=$(python3 -c "import sys; print(float(sys.argv[1]) + (float(sys.argv[2]) - float(sys.argv[1])) / 2)" "$t0" "$t1")
enroll() {
	curl -sS --cacert "$T/ca.crt" --cert "$T/provisioner.crt" --key "$T/provisioner.key" \
		-H 'Content-Type: application/pkcs10' --data-binary @"$T/req/dev$1.b64" \
		-o "$T/req/dev$1.p7" -w '%{http_code}\n' "$EST/simpleenroll"
}
renew() {
	curl -sS --cacert "$T/ca.crt" --cert "$T/req/dev$1.crt" --key "$T/req/dev$1.key" \
		-H 'Content-Type: application/pkcs10' --data-binary @"$T/req/dev$1.b64" \
		-o /dev/null -w '%{http_code}\n' "$EST/simplereenroll"
}
export -f enroll renew; export T EST
t2=$(date +%s.%N)
ok=$(seq "$n" | xargs -P "$conc" -I{} bash -c 'enroll {}' | grep -c '^200$')
t3=$(date +%s.%N)
for i in $(seq "$n"); do
	openssl base64 -d -in "$T/req/dev$i.p7" | openssl pkcs7 -inform DER -print_certs -out "$T/req/dev$i.crt" 2>/dev/null
done
t4=$(date +%s.%N)
rok=$(seq "$n" | xargs -P "$conc" -I{} bash -c 'renew {}' | grep -c '^200$')
t5=$(date +%s.%N)
# the same number of requests to a route that signs nothing (cacerts), for the floor
t6=$(date +%s.%N)
seq "$n" | xargs -P "$conc" -I{} curl -sS --cacert "$T/ca.crt" -o /dev/null "$EST/cacerts"
t7=$(date +%s.%N)
# kept-alive: worker w enrolls dev(n+w), dev(n+w+conc)... on one connection
for w in $(seq "$conc"); do
	for i in $(seq "$((n + w))" "$conc" "$((2 * n))"); do
		printf '%s\n' "url = \"$EST/simpleenroll\"" "cacert = \"$T/ca.crt\"" \
			"cert = \"$T/provisioner.crt\"" "key = \"$T/provisioner.key\"" \
			"header = \"Content-Type: application/pkcs10\"" "data-binary = \"@$T/req/dev$i.b64\"" \
			"output = \"/dev/null\"" "write-out = \"%{http_code}\\n\"" "next"
	done | sed '$d' >"$T/keepalive.$w" # no "next" after the last
done
t8=$(date +%s.%N)
kok=$(seq "$conc" | xargs -P "$conc" -I{} curl -sS -K "$T/keepalive.{}" | grep -c '^200$')
t9=$(date +%s.%N)
rate() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2]))))" "$@"; }
echo "store=$store ca_key=$keysrc requests=$n concurrency=$conc"
echo "key + CSR generation (openssl CLI, serial): $(rate "$n" "$t0" "$t1") /s"
echo "simpleenroll:   $ok/$n ok, $(rate "$n" "$t2" "$t3") enrollments/s"
echo "simplereenroll: $rok/$n ok, $(rate "$n" "$t4" "$t5") renewals/s"
echo "GET cacerts (no signing, no store, same curl+TLS cost): $(rate "$n" "$t6" "$t7") requests/s"
echo "simpleenroll, kept-alive connections (server work only): $kok/$n ok, $(rate "$n" "$t8" "$t9") enrollments/s"
