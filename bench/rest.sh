# shellcheck shell=bash
# bench/rest.sh — the REST figures of bench/run (sourced by it, after the LDAP
# figures): a laps-escrowd of the same build (SQLite, mTLS identities from a
# test CA made by tests/integration/lib/escrowd.sh) on
# 127.0.0.1, laps next to curl doing the same requests.  Until the build has
# backend = rest (laps-agent check-config on a rest config says whether it
# has) the rows print "n/a (backend rest not built)".
#
# Floors (one curl process each, the requests laps makes, one connection):
#   no-op run       GET …/accounts/lapsadmin                 (the metadata)
#   rotation        GET …/accounts/A, PUT …/A/record (If-None-Match: *, a
#                   fresh account A each run, the agent's record), POST
#                   …/A/confirm; then chpasswd as in the LDAP floor
#   laps-get read   GET …/accounts/lapsadmin/record as the admin
# Requests per run are counted from laps-escrowd's
# laps_escrowd_requests_total (/metrics) for both sides.

rest_na() { # REASON
	local id
	for id in rest_noop rest_rot rest_get; do
		SKIP[$id]="n/a ($1)"
	done
}
fig rest_noop "REST: no-op run" "curl GET the account's metadata (mTLS as the device)" ""
fig rest_rot "REST: rotation, SHA-512 656,000" \
	"curl GET metadata + PUT record (If-None-Match: *) + POST confirm, then chpasswd -R ROOT -c SHA512 -s 656000" ""
fig rest_get "REST: laps-get read" "curl GET the sealed record (mTLS as the admin)" ""

# the test CA and laps-escrowd start-up the suite uses
. "$top/tests/integration/lib/escrowd.sh"
rest_requests() { # the number of requests laps-escrowd has answered, /metrics excluded
	curl -sf --cacert "$W/pki/ca.crt" "$REST_URL/metrics" |
		awk '/^laps_escrowd_requests_total/ && !/metrics/ { n += $NF } END { print n + 0 }'
}

rest_setup() {
	local dev=resthost.example.test
	if [ ! -x "$ESCROWD" ]; then
		rest_na "laps-escrowd not built"
		return
	fi
	command -v curl >/dev/null || { rest_na "curl missing"; return; }
	mkdir -p "$W/r1/state" "$W/r2/state"
	pki_ca "$W/pki" "laps bench CA" &&
		pki_sign "$W/pki" server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth' &&
		pki_sign "$W/pki" $dev 'extendedKeyUsage=clientAuth' &&
		pki_sign "$W/pki" rothost.example.test 'extendedKeyUsage=clientAuth' &&
		pki_sign "$W/pki" floorhost.example.test 'extendedKeyUsage=clientAuth' &&
		pki_sign "$W/pki" admin-robot 'extendedKeyUsage=clientAuth' ||
		{ cat "$W/pki/openssl.log" >&2; echo "bench/run: openssl failed" >&2; exit 1; }
	# rest_conf FILE DIR DEVICE CN HASH COST: the agent (or laps-get, DEVICE
	# empty) authenticated by the client certificate CN
	rest_conf() {
		make_root "$2"
		cat >"$1" <<CONF
[agent]
accounts = lapsadmin
method = shadow
root = $2
state_dir = $2/state
hash = $5
hash_cost = $6
[escrow]
backend = rest
recipients = $W/admin.key.pub
device = $3
[rest]
url = https://127.0.0.1:${REST_PORT:-1}
auth = mtls
ca_file = $W/pki/ca.crt
cert_file = $W/pki/$4.crt
key_file = $W/pki/$4.key
CONF
		chmod 600 "$1"
	}
	rest_conf "$W/rest-noop.conf" "$W/r1" $dev $dev sha512 656000
	out=$("$AGENT" -c "$W/rest-noop.conf" check-config 2>&1) || {
		case $out in
		*"unknown backend"*) rest_na "backend rest not built" ;;
		*) rest_na "check-config: ${out##*: }" ;;
		esac
		return
	}
	cat >"$W/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $W/pki/server.crt
key_file = $W/pki/server.key
client_ca = $W/pki/ca.crt
threads = 2
timeout = 10s
[store]
url = sqlite:$W/escrow.db
history_size = 5
[authz]
cert_admins = admin-robot=laps.read,laps.secret,laps.expire
[limits]
rate = 100000
burst = 100000
CONF
	chmod 600 "$W/escrowd.conf"
	escrowd_spawn "$ESCROWD" "$W/escrowd.conf" "$W" ||
		{ cat "$W/escrowd.log" >&2; echo "bench/run: laps-escrowd did not start" >&2; exit 1; }
	REST_PORT=$ESCROWD_PORT
	REST_URL=$ESCROWD_URL
	rest_conf "$W/rest-noop.conf" "$W/r1" $dev $dev sha512 656000
	rest_conf "$W/rest-rot.conf" "$W/r2" rothost.example.test rothost.example.test sha512 656000
	rest_conf "$W/rest-get.conf" "$W/r3" "" admin-robot sha512 656000
	sed -i '/^device = $/d' "$W/rest-get.conf"
	make_root "$W/rf"
	for c in rest-noop rest-rot; do
		"$AGENT" -c "$W/$c.conf" run >"$W/out" 2>&1 ||
			{ cat "$W/out" "$W/escrowd.log" >&2; echo "bench/run: first REST rotation ($c) failed" >&2; exit 1; }
	done
	# the floor's record: the agent's, for floorhost and a fresh account per run
	local acct=$W/pki/admin-robot
	curl -sf --cacert "$W/pki/ca.crt" --cert "$acct.crt" --key "$acct.key" \
		"$REST_URL/v1/devices/rothost.example.test/accounts/lapsadmin/record" >"$W/rest-record.json" ||
		{ echo "bench/run: cannot read the REST record as the admin" >&2; exit 1; }
	REST_FLOOR_N=0
	local c=(--cacert "$W/pki/ca.crt" -sf)
	local d=(--cert "$W/pki/$dev.crt" --key "$W/pki/$dev.key")
	local base=$REST_URL/v1/devices/$dev/accounts
	L_rest_noop=("$AGENT" -c "$W/rest-noop.conf" run)
	F_rest_noop=(curl "${c[@]}" "${d[@]}" "$base/lapsadmin")
	L_rest_rot=("$AGENT" -c "$W/rest-rot.conf" rotate --account lapsadmin)
	F_rest_rot=() # prep_rest_rot: a fresh account per run
	L_rest_get=("$GET" -c "$W/rest-get.conf" -k "$W/admin.key" $dev)
	F_rest_get=(curl "${c[@]}" --cert "$acct.crt" --key "$acct.key" "$base/lapsadmin/record")
}

# before each floor rotation: the next fresh account of floorhost
prep_rest_rot() {
	local f=floorhost.example.test a
	REST_FLOOR_N=$((REST_FLOOR_N + 1))
	a=fl$REST_FLOOR_N
	python3 - "$W/rest-record.json" "$f" "$a" >"$W/rest-floor.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["device"], r["account"] = sys.argv[2], sys.argv[3]
print(json.dumps(r, separators=(",", ":")))
PY
	python3 - "$W/rest-floor.json" >"$W/rest-confirm.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"rotation_id": r["rotation_id"], "expires_at": r["expires_at"]}))
PY
	local u=$REST_URL/v1/devices/$f/accounts/$a
	local c=(--cacert "$W/pki/ca.crt" -sf --cert "$W/pki/$f.crt" --key "$W/pki/$f.key")
	F_rest_rot=(curl -s --cacert "$W/pki/ca.crt" --cert "$W/pki/$f.crt" --key "$W/pki/$f.key" "$u"
		--next "${c[@]}" -X PUT -H 'Content-Type: application/json' -H 'If-None-Match: *'
		--data-binary @"$W/rest-floor.json" "$u/record"
		--next "${c[@]}" -X POST -H 'Content-Type: application/json'
		--data-binary @"$W/rest-confirm.json" "$u/confirm"
		:: -i "$W/chpasswd.in" chpasswd -R "$W/rf" -c SHA512 -s 656000)
}
