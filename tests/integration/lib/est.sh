# tests/integration/lib/est.sh — the test PKI of the EST tests (est_*.sh,
# get_enroll.sh), starting their laps-escrowd, and their curl helpers: a TLS CA "ca" (server and admin certificates), the EST
# issuing CA "estca" (key 0600) and the server's certificate for
# 127.0.0.1, in DIR.  Needs the caller's ssl() (openssl, exit 99 on failure).

# mkca NAME: a self-signed CA $T/NAME.{crt,key}
mkca() {
	ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$1" -keyout "$T/$1.key" -out "$T/$1.crt"
}
# mkcert CN EXT: $T/CN.{crt,key} signed by $T/ca
mkcert() {
	printf '%s\n' "$2" >"$T/$1.ext"
	ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$T/$1.key" -out "$T/$1.csr"
	ssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -extfile "$T/$1.ext" -out "$T/$1.crt"
}
# est_pki ADMIN...: ca, estca, server, and a clientAuth certificate per ADMIN
est_pki() {
	mkca ca
	mkca estca
	chmod 600 "$T/estca.key"
	mkcert server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth'
	for n in "$@"; do mkcert "$n" 'extendedKeyUsage=clientAuth'; done
}

# est_serve: laps-escrowd with $T/escrowd.conf (log $T/escrowd.log); sets
# PID, URL and EST (exit 99 when it does not start)
est_serve() {
	rm -f "$T/port"
	"$ESCROWD" -c "$T/escrowd.conf" --port-file "$T/port" 2>>"$T/escrowd.log" &
	PID=$!
	for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ] || { cat "$T/escrowd.log" >&2; exit 99; }
	URL=https://127.0.0.1:$(cat "$T/port")
	EST=$URL/.well-known/est
}

# est WHO METHOD OP [curl args]: status in $S, body in $T/body, headers in $T/hdr.
# WHO: none, an admin name, or DIR/NAME for DIR/NAME.crt + DIR/NAME.key.
est() {
	local who=$1 m=$2 op=$3 auth=()
	shift 3
	case $who in
	none) ;;
	*/*) auth=(--cert "$who.crt" --key "$who.key") ;;
	*) auth=(--cert "$T/$who.crt" --key "$T/$who.key") ;;
	esac
	S=$(curl -sS --cacert "$T/ca.crt" "${auth[@]}" -X "$m" -o "$T/body" -D "$T/hdr" \
		-w '%{http_code}' "$@" "$EST/$op" 2>"$T/curl.err")
}
hdr() { grep -i "^$1:" "$T/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# csr DIR CN [KEYOPTS]: a new key DIR/CN.key and its request as base64 DER in DIR/CN.b64
csr() {
	mkdir -p "$1"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$1/$2.key" -outform DER -out "$1/$2.der" >/dev/null 2>&1 &&
		openssl base64 -in "$1/$2.der" -out "$1/$2.b64"
}
P10=(-H 'Content-Type: application/pkcs10')
# certs_of FILE OUT: the certificates of a base64 certs-only PKCS#7 answer, PEM
certs_of() {
	openssl base64 -d -in "$1" -out "$1.der" &&
		openssl pkcs7 -inform DER -in "$1.der" -print_certs -out "$2" 2>/dev/null
}
api() { # api CERTPREFIX PATH: status of a GET on /v1
	curl -sS --cacert "$T/ca.crt" --cert "$1.crt" --key "$1.key" -o "$T/api.body" \
		-w '%{http_code}' "$URL$2" 2>/dev/null
}
audit_rows() { # audit_rows ACTION OUTCOME: rows read back through GET /v1/audit (any store)
	[ "$(api "$T/reader" "/v1/audit?action=$1&page_size=500")" = 200 ] || { echo "audit query failed"; return; }
	python3 -c 'import json,sys; print(sum(1 for e in json.load(open(sys.argv[1]))["entries"] if e["outcome"] == sys.argv[2]))' "$T/api.body" "$2"
}
