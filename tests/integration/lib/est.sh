# tests/integration/lib/est.sh — the test PKI of the EST tests (est_*.sh,
# get_enroll.sh): a TLS CA "ca" (server and admin certificates), the EST
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
