#!/bin/bash
# run-est-tpm.sh — the client side of EST with the device key in a (software)
# TPM 2.0 vs in a file: laps-agent's own enrollments/s (`laps-agent enroll`,
# key + CSR + POST simpleenroll + checks + write) and renewals/s (`laps-agent
# run` with 60 s certificates, so every run renews: key + CSR + mTLS
# simplereenroll + write, then the run's usual escrow read, measured alone
# with 1 h certificates), against one laps-escrowd on SQLite, serial (one
# device).  And the TPM's own cost: key generation and one signature with
# openssl + the tpm2 provider.  Numbers only.  Needs root (laps-agent
# checks the owner of its files), swtpm and tpm2-openssl.
# Usage (from the build directory): bench/run-est-tpm.sh [-n runs]
# Default: 30 runs of each.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=.}"
n=30
[ "${1:-}" = -n ] && n=$2
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
export LAPS_BACKEND_DIR=${LAPS_BACKEND_DIR:-$(cd "$top_builddir" && pwd)/backends/.libs}
escrowd=$top_builddir/laps-escrowd
[ -x "$escrowd" ] || { echo "build laps-escrowd first" >&2; exit 2; }
. "$top_srcdir/tests/integration/agent_lib.sh"
. "$top_srcdir/tests/integration/lib/swtpm.sh"
need_swtpm
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; swtpm_stop "$T/tpm"; wait 2>/dev/null; rm -rf "$T"' EXIT
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
escrowd_on() { # escrowd_on LIFETIME
	[ -n "$PID" ] && { kill "$PID"; wait "$PID" 2>/dev/null; }
	rm -f "$T/port"
	cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
[store]
url = sqlite:$T/escrow.db
[authz]
units = lab:testhost
cert_admins = provisioner=laps.enroll
[limits]
rate = 100000
burst = 1000000
[est]
ca_cert = $T/estca.crt
ca_key = $T/estca.key
lifetime = $1
CONF
	"$escrowd" -c "$T/escrowd.conf" --port-file "$T/port" 2>>"$T/escrowd.log" &
	PID=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	URL=https://127.0.0.1:$(cat "$T/port")
}
admin() { # admin PATH JSON
	curl -sS --cacert "$T/ca.crt" --cert "$T/provisioner.crt" --key "$T/provisioner.key" \
		-H 'Content-Type: application/json' --data-binary "$2" -o "$T/body" -w '%{http_code}' "$URL$1"
}
escrowd_on 1h
[ "$(admin /v1/enroll-tokens "{\"unit\":\"lab\",\"uses\":$((4 * n + 10)),\"expires_in\":3600}")" = 201 ] ||
	{ echo "token: $(cat "$T/body")" >&2; exit 2; }
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/body" >"$T/token"
chmod 600 "$T/token"
make_root "$T/root"
mkdir -p "$T/state" "$T/dev" && chmod 700 "$T/state" "$T/dev"
"$TOOL" keygen "$T" >/dev/null || exit 2
conf() { # conf KEY_STORE
	write_conf lapsadmin shadow "[rest]" "url = $URL" "auth = mtls" "ca_file = $T/ca.crt" \
		"cert_file = $T/dev/agent.crt" "key_file = $T/dev/agent.key" "key_store = $1"
	sed -i 's/^backend = file$/backend = rest/' "$T/laps.conf"
}
TPM2OPENSSL_TCTI=$(swtpm_start "$T/tpm") || { echo "swtpm failed" >&2; exit 2; }
export TPM2OPENSSL_TCTI
now() { date +%s.%N; }
rate() { python3 -c "import sys; print('%.1f /s  (%.1f ms each)' % (float(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])), 1000 * (float(sys.argv[3]) - float(sys.argv[2])) / float(sys.argv[1])))" "$@"; }
enrolls() { # the time of n enrollments (the admin's reenroll permit between them not counted)
	local i t=0 a b
	for i in $(seq "$n"); do
		[ "$(admin /v1/enrolled-devices/testhost/reenroll '{}')" = 200 ] || [ ! -e "$T/dev/agent.crt" ] ||
			{ echo "reenroll: $(cat "$T/body")" >&2; exit 2; }
		a=$(now)
		"$AGENT" -c "$T/laps.conf" enroll --token-file "$T/token" >>"$T/agent.log" 2>&1 ||
			{ echo "enroll failed" >&2; tail -3 "$T/agent.log" >&2; exit 2; }
		b=$(now)
		t=$(python3 -c "print($t + $b - $a)")
	done
	echo "$t"
}
runs() { # the time of n `laps-agent run`
	local a b i
	a=$(now)
	for i in $(seq "$n"); do
		"$AGENT" -c "$T/laps.conf" run >>"$T/agent.log" 2>&1 ||
			{ echo "run failed" >&2; tail -3 "$T/agent.log" >&2; exit 2; }
	done
	b=$(now)
	python3 -c "print($b - $a)"
}
echo "laps-agent against one laps-escrowd (SQLite), serial, $n runs each; swtpm over TCP on 127.0.0.1"
for store in file tpm; do
	rm -f "$T/dev"/*
	escrowd_on 1h
	conf "$store"
	te=$(enrolls) || exit 2
	"$AGENT" -c "$T/laps.conf" run >>"$T/agent.log" 2>&1 || { echo "first run failed" >&2; exit 2; }
	tb=$(runs) || exit 2
	escrowd_on 60s
	conf "$store"
	[ "$(admin /v1/enrolled-devices/testhost/reenroll '{}')" = 200 ] || exit 2
	"$AGENT" -c "$T/laps.conf" enroll --token-file "$T/token" >>"$T/agent.log" 2>&1 || exit 2
	tr=$(runs) || exit 2
	grep -q 'BEGIN TSS2 PRIVATE KEY' "$T/dev/agent.key" && k=tpm || k=file
	echo "key_store=$store (key_file holds a $k key):"
	echo "  enroll:                          $(rate "$n" 0 "$te")"
	echo "  run, no renewal (1 h cert):      $(rate "$n" 0 "$tb")"
	echo "  run + renewal (60 s cert):       $(rate "$n" 0 "$tr")"
	echo "  renewal alone (difference):      $(python3 -c "print('%.1f ms each' % (1000 * ($tr - $tb) / $n))")"
done
# the TPM's own operations, through the openssl command (process start included)
a=$(now)
for i in $(seq "$n"); do
	openssl genpkey -provider tpm2 -provider default -propquery '?provider=tpm2' -algorithm EC \
		-pkeyopt group:P-256 -out "$T/k.pem" 2>/dev/null || exit 2
done
b=$(now)
echo "openssl genpkey in the TPM:        $(rate "$n" "$a" "$b")"
a=$(now)
for i in $(seq "$n"); do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/f.pem" 2>/dev/null || exit 2
done
b=$(now)
echo "openssl genpkey, file key:         $(rate "$n" "$a" "$b")"
echo hello >"$T/msg"
a=$(now)
for i in $(seq "$n"); do
	openssl pkeyutl -provider tpm2 -provider default -sign -inkey "$T/k.pem" -rawin -digest sha256 \
		-in "$T/msg" -out "$T/sig" 2>/dev/null || exit 2
done
b=$(now)
echo "openssl sign with the TPM key:     $(rate "$n" "$a" "$b")"
a=$(now)
for i in $(seq "$n"); do
	openssl pkeyutl -sign -inkey "$T/f.pem" -rawin -digest sha256 -in "$T/msg" -out "$T/sig" 2>/dev/null || exit 2
done
b=$(now)
echo "openssl sign with a file key:      $(rate "$n" "$a" "$b")"
