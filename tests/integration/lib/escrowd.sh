# lib/escrowd.sh — a throw-away test PKI and a laps-escrowd on 127.0.0.1
# (sourced by sh and bash: tests/integration/rest_lib.sh,
# agent_accounts.sh, bench/rest.sh).  Each caller writes its own
# laps-escrowd config; what they share is how the certificates are made and
# how the server is started and waited for.  Nothing here exits: the
# functions return non-zero and the caller decides (fail, skip a backend,
# mark a benchmark row n/a).

# pki_ca DIR CN: DIR/ca.key and DIR/ca.crt, a self-signed EC P-256 CA valid
# for two days.  openssl's output goes to DIR/openssl.log.
pki_ca() {
	mkdir -p "$1" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=$2" -keyout "$1/ca.key" -out "$1/ca.crt" >/dev/null 2>>"$1/openssl.log"
}

# pki_sign DIR CN EXT: DIR/CN.key (0600) and DIR/CN.crt signed by DIR's CA;
# EXT: the extension lines (subjectAltName, extendedKeyUsage...).
pki_sign() {
	printf '%s\n' "$3" >"$1/$2.ext" &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
			-keyout "$1/$2.key" -out "$1/$2.csr" >/dev/null 2>>"$1/openssl.log" &&
		openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" \
			-CAcreateserial -days 2 -extfile "$1/$2.ext" -out "$1/$2.crt" \
			>/dev/null 2>>"$1/openssl.log" &&
		chmod 600 "$1/$2.key"
}

# escrowd_spawn ESCROWD CONF DIR: start ESCROWD -c CONF in the background,
# port file DIR/escrowd.port, standard error appended to DIR/escrowd.log,
# and wait (up to 10 s) until it listens.  Sets ESCROWD_PID (also when it
# failed to come up, so the caller's clean-up still stops it), and on
# success ESCROWD_PORT and ESCROWD_URL; 1 when it did not come up.
escrowd_spawn() {
	rm -f "$3/escrowd.port"
	"$1" -c "$2" --port-file "$3/escrowd.port" 2>>"$3/escrowd.log" &
	ESCROWD_PID=$!
	for _ in $(seq 200); do
		[ -s "$3/escrowd.port" ] && break
		sleep 0.05
	done
	[ -s "$3/escrowd.port" ] || return 1
	ESCROWD_PORT=$(cat "$3/escrowd.port")
	ESCROWD_URL=https://127.0.0.1:$ESCROWD_PORT
}
