# shellcheck shell=bash
#
# tests/integration/lib/oidc.sh -- a throw-away OpenID Connect issuer for tests
# (npm oidc-provider, pinned in tests/oidc/package-lock.json; the issuer is
# tests/oidc/issuer.mjs).
#
# Source it from a bash test driver, then:
#
#   oidc_start DIR [--audience URL] [--quiet]
#       Creates everything under DIR (an empty or missing directory the
#       caller owns): a test CA and a server certificate (CN=127.0.0.1,
#       subjectAltName IP:127.0.0.1, DNS:localhost), an unrelated CA (to test
#       that a wrong CA is refused), an empty clients.json, and starts the
#       issuer on https://127.0.0.1:<free port>.  Returns when the discovery
#       document is served.  The issuer has three signing keys (ES256 kid
#       es256-1, RS256 kid rs256-1, EdDSA/Ed25519 kid eddsa-1), generated at
#       start-up.  The first start installs oidc-provider with "npm ci" into
#       a cache directory ($LAPS_OIDC_CACHE, default
#       ${XDG_CACHE_HOME:-$HOME/.cache}/laps-test-oidc/<hash of the lock>);
#       later starts run offline.  node_modules never goes into the tree.
#
#   Tokens (JWT access tokens, RFC 9068: header typ "at+jwt"):
#       claims iss, sub, aud, client_id, scope, jti, iat, exp, and "groups"
#       when the client (laps_groups) or the signed-in user (oidc_add_user)
#       has groups.  client_credentials: sub = client_id.  Device flow: sub =
#       the user name typed on the login page.  aud is $OIDC_AUDIENCE unless
#       the request names another allowed resource (resource=URL; allowed:
#       $OIDC_AUDIENCE and $OIDC_WRONG_AUDIENCE).  Scopes on the resource:
#       laps.device laps.read laps.secret laps.expire laps.approve laps.enroll
#       laps.enroll@lab (a client gets only the
#       ones it asks for and is registered for).  Lifetime 600 s
#       (OIDC_AT_TTL before oidc_start changes it).
#
#   Exported variables after oidc_start:
#       OIDC_DIR OIDC_PID OIDC_LOG OIDC_PORT
#       OIDC_ISSUER            https://127.0.0.1:PORT (no trailing slash)
#       OIDC_CA                CA certificate (PEM) that signed the server cert
#       OIDC_WRONG_CA          an unrelated CA (must be refused)
#       OIDC_TOKEN_ENDPOINT    $OIDC_ISSUER/token
#       OIDC_DEVICE_ENDPOINT   $OIDC_ISSUER/device/auth (RFC 8628)
#       OIDC_JWKS_URI          $OIDC_ISSUER/jwks
#       OIDC_JWKS_FILE         the issuer's public JWKS as a file
#       OIDC_AUDIENCE          audience of the tokens (default
#                              https://laps-escrowd.test; set it before
#                              oidc_start to change it)
#       OIDC_WRONG_AUDIENCE    another resource the issuer serves
#                              (https://wrong-audience.test)
#       OIDC_CLIENTS           the clients.json the issuer reads on every lookup
#
#   Helpers (client secrets and keys live in files, never in argv):
#       oidc_add_client JSON              add raw oidc-provider client metadata
#       oidc_add_secret_client ID SECRETFILE [SCOPE] [ALG] [GROUPS]
#           client_credentials + client_secret_basic; writes a random secret
#           to SECRETFILE (0600).  SCOPE default "laps.device"; ALG the access
#           token algorithm (ES256 default, RS256, EdDSA); GROUPS a space-
#           separated list for the groups claim.
#       oidc_add_jwt_client ID KEYFILE [SCOPE] [ALG] [KEYALG]
#           client_credentials + private_key_jwt; writes a new private key
#           to KEYFILE (0600; KEYALG RS256 default, or EdDSA) and registers
#           its public JWK.
#       oidc_add_admin_client ID [SCOPE]
#           public client (token_endpoint_auth_method none) with the device
#           authorization grant and refresh tokens.  SCOPE default
#           "openid offline_access laps.read laps.secret laps.expire".
#       oidc_add_user NAME [GROUP...]     groups claim of a device-flow user
#       oidc_token_secret ID SECRETFILE [SCOPE] [RESOURCE]
#       oidc_token_jwt ID KEYFILE [SCOPE] [RESOURCE] [KEYALG]
#           print the token endpoint's JSON answer (access_token ...)
#       oidc_client_assertion ID KEYFILE [KEYALG]
#           print an RFC 7523 client assertion signed with openssl
#       oidc_device_authorize ID [SCOPE]  print the device authorization JSON
#       oidc_approve_device USER_CODE USERNAME
#           sign USERNAME in and approve USER_CODE through the issuer's own
#           pages (user-code form, confirm form, devInteractions login and
#           consent forms), with curl and a cookie jar; 0 when the issuer
#           shows its success page
#       oidc_device_token ID DEVICE_CODE  one token request (prints JSON)
#       oidc_refresh ID REFRESH_TOKEN     refresh_token grant (prints JSON)
#       oidc_json FIELD                   print FIELD of the JSON on stdin
#       oidc_jwt_part N                   print the decoded JSON of part N
#                                         (0 header, 1 payload) of the JWT on stdin
#       oidc_curl ARGS...                 curl with --cacert $OIDC_CA
#       oidc_stop       SIGTERM, wait for exit
#       oidc_cleanup    stop (if running) and remove DIR
#
#   oidc_start installs "trap oidc_cleanup EXIT" when the caller has no EXIT
#   trap yet; otherwise the caller must call oidc_cleanup from its own.
#
#   Return values: 0 on success; 77 when node (>= 18), npm or openssl is
#   missing; 99 on any other failure, with the issuer's log on stderr.

OIDC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$OIDC_LIB_DIR/../../.." && pwd)}"

_oidc_msg() { [ -n "${_oidc_quiet:-}" ] || echo "oidc.sh: $*" >&2; }

_oidc_b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

_oidc_tools() {
	command -v node >/dev/null && command -v openssl >/dev/null && command -v curl >/dev/null ||
		return 77
	local major
	major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 77
	[ "$major" -ge 18 ] || return 77
	return 0
}

# Install oidc-provider into the cache once per lock file (flock: tests run
# in parallel).  Prints the directory that holds node_modules.
_oidc_install() {
	local src=$top_srcdir/tests/oidc base hash dir
	base=${LAPS_OIDC_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/laps-test-oidc}
	hash=$(sha256sum "$src/package-lock.json" | cut -c1-16) || return 99
	dir=$base/$hash
	mkdir -p "$dir" || return 99
	(
		flock 9 || exit 99
		[ -f "$dir/node_modules/oidc-provider/package.json" ] && exit 0
		command -v npm >/dev/null || exit 77
		cp "$src/package.json" "$src/package-lock.json" "$dir/" || exit 99
		cd "$dir" || exit 99
		npm ci --no-audit --no-fund --prefer-offline --loglevel=error >npm.log 2>&1 ||
			{ cat npm.log >&2; exit 99; }
	) 9>"$dir/.lock" || return $?
	echo "$dir"
}

_oidc_certs() {
	local t=$OIDC_DIR/tls
	mkdir -p "$t" || return 99
	(
		cd "$t" || exit 99
		set -e
		exec 2>openssl.log
		for ca in ca wrong-ca; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
				-subj "/O=laps-test/CN=laps test OIDC CA" -keyout "$ca.key" -out "$ca.pem" \
				-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
		done
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/O=laps-test/CN=127.0.0.1" -keyout server.key -out server.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.pem
		chmod 600 ./*.key
		rm -f server.csr
	) || { cat "$t/openssl.log" >&2; return 99; }
	ln -sf tls/server.pem "$OIDC_DIR/tls.crt" && ln -sf tls/server.key "$OIDC_DIR/tls.key"
}

oidc_start() {
	local dir= modules rc i
	_oidc_quiet=
	while [ $# -gt 0 ]; do
		case $1 in
		--audience) OIDC_AUDIENCE=$2; shift ;;
		--quiet) _oidc_quiet=1 ;;
		-*) echo "oidc_start: unknown option $1" >&2; return 99 ;;
		*) dir=$1 ;;
		esac
		shift
	done
	[ -n "$dir" ] || { echo "oidc_start: DIR missing" >&2; return 99; }
	_oidc_tools || { echo "oidc.sh: node >= 18, openssl or curl missing" >&2; return 77; }
	modules=$(_oidc_install)
	rc=$?
	[ $rc -eq 0 ] || { echo "oidc.sh: installing oidc-provider failed ($rc)" >&2; return $rc; }
	mkdir -p "$dir" || return 99
	OIDC_DIR=$(cd "$dir" && pwd)
	export OIDC_DIR
	export OIDC_AUDIENCE=${OIDC_AUDIENCE:-https://laps-escrowd.test}
	export OIDC_WRONG_AUDIENCE=https://wrong-audience.test
	export OIDC_CA=$OIDC_DIR/tls/ca.pem OIDC_WRONG_CA=$OIDC_DIR/tls/wrong-ca.pem
	export OIDC_CLIENTS=$OIDC_DIR/clients.json OIDC_JWKS_FILE=$OIDC_DIR/jwks.json
	export OIDC_LOG=$OIDC_DIR/issuer.log
	_oidc_certs || return 99
	[ -f "$OIDC_CLIENTS" ] || echo '{"clients": [], "users": {}}' >"$OIDC_CLIENTS"
	# The issuer runs from a copy next to a node_modules link: ES modules
	# resolve packages from the importing file's directory.
	mkdir -p "$OIDC_DIR/app" && cp "$top_srcdir/tests/oidc/issuer.mjs" "$OIDC_DIR/app/" &&
		ln -sfn "$modules/node_modules" "$OIDC_DIR/app/node_modules" || return 99
	rm -f "$OIDC_DIR/port"
	OIDC_DIR=$OIDC_DIR OIDC_EXTRA_AUDIENCES=$OIDC_WRONG_AUDIENCE NODE_ENV=test \
		node "$OIDC_DIR/app/issuer.mjs" >"$OIDC_LOG" 2>&1 &
	OIDC_PID=$!
	export OIDC_PID
	for ((i = 0; i < 300; i++)); do
		[ -s "$OIDC_DIR/port" ] && break
		kill -0 "$OIDC_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -s "$OIDC_DIR/port" ]; then
		cat "$OIDC_LOG" >&2
		oidc_stop
		return 99
	fi
	OIDC_PORT=$(head -n1 "$OIDC_DIR/port")
	export OIDC_PORT OIDC_ISSUER=https://127.0.0.1:$OIDC_PORT
	export OIDC_TOKEN_ENDPOINT=$OIDC_ISSUER/token OIDC_DEVICE_ENDPOINT=$OIDC_ISSUER/device/auth
	export OIDC_JWKS_URI=$OIDC_ISSUER/jwks
	if ! oidc_curl -fsS "$OIDC_ISSUER/.well-known/openid-configuration" -o /dev/null; then
		cat "$OIDC_LOG" >&2
		oidc_stop
		return 99
	fi
	[ -n "$(trap -p EXIT)" ] || trap oidc_cleanup EXIT
	_oidc_msg "issuer $OIDC_ISSUER (pid $OIDC_PID)"
	return 0
}

oidc_stop() {
	[ -n "${OIDC_PID:-}" ] || return 0
	kill -TERM "$OIDC_PID" 2>/dev/null
	wait "$OIDC_PID" 2>/dev/null
	OIDC_PID=
	return 0
}

oidc_cleanup() {
	oidc_stop
	if [ -n "${OIDC_DIR:-}" ] && [ -d "$OIDC_DIR" ] && [ -z "${OIDC_KEEP:-}" ]; then
		rm -rf "$OIDC_DIR"
	fi
}

oidc_curl() { curl --cacert "$OIDC_CA" --proto =https --max-time 20 "$@"; }

# Read JSON on stdin; print one top-level field (strings bare, others as JSON).
oidc_json() {
	node -e '
let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => {
  const v = JSON.parse(s)[process.argv[1]];
  if (v === undefined) process.exit(1);
  console.log(typeof v === "string" ? v : JSON.stringify(v));
});' "$1"
}

oidc_jwt_part() {
	local t
	t=$(cat)
	t=$(cut -d. -f"$(($1 + 1))" <<<"$t" | tr -- '-_' '+/')
	while [ $((${#t} % 4)) -ne 0 ]; do t+='='; done
	base64 -d <<<"$t"
	echo
}

oidc_add_client() {
	node -e '
const fs = require("fs");
const f = process.argv[1];
const conf = JSON.parse(fs.readFileSync(f, "utf8"));
const c = JSON.parse(process.argv[2]);
conf.clients = conf.clients.filter((x) => x.client_id !== c.client_id);
conf.clients.push(c);
fs.writeFileSync(f + ".tmp", JSON.stringify(conf, null, 1));
fs.renameSync(f + ".tmp", f);' "$OIDC_CLIENTS" "$1"
}

oidc_add_user() {
	local name=$1
	shift
	node -e '
const fs = require("fs");
const f = process.argv[1];
const conf = JSON.parse(fs.readFileSync(f, "utf8"));
conf.users[process.argv[2]] = { groups: process.argv.slice(3) };
fs.writeFileSync(f + ".tmp", JSON.stringify(conf, null, 1));
fs.renameSync(f + ".tmp", f);' "$OIDC_CLIENTS" "$name" "$@"
}

# The issuer's clients.json holds the secret anyway (it is the issuer's
# database); the secret is handed to node on stdin, not in argv.
oidc_add_secret_client() {
	local id=$1 file=$2 scope=${3:-laps.device} alg=${4:-ES256} groups=${5:-}
	(umask 077 && head -c 24 /dev/urandom | _oidc_b64url >"$file") || return 99
	node -e '
const fs = require("fs");
const [f, id, scope, alg, groups] = process.argv.slice(1);
const secret = fs.readFileSync(0, "utf8").trim();
const conf = JSON.parse(fs.readFileSync(f, "utf8"));
const c = { client_id: id, client_secret: secret, grant_types: ["client_credentials"],
  response_types: [], redirect_uris: [], token_endpoint_auth_method: "client_secret_basic",
  scope, laps_at_alg: alg };
if (groups) c.laps_groups = groups.split(" ");
conf.clients = conf.clients.filter((x) => x.client_id !== id);
conf.clients.push(c);
fs.writeFileSync(f + ".tmp", JSON.stringify(conf, null, 1));
fs.renameSync(f + ".tmp", f);' "$OIDC_CLIENTS" "$id" "$scope" "$alg" "$groups" <"$file"
}

oidc_add_jwt_client() {
	local id=$1 key=$2 scope=${3:-laps.device} alg=${4:-ES256} keyalg=${5:-RS256} jwk
	case $keyalg in
	RS256) (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null) ;;
	EdDSA) (umask 077 && openssl genpkey -algorithm ed25519 -out "$key" 2>/dev/null) ;;
	*) echo "oidc_add_jwt_client: key algorithm $keyalg unsupported" >&2; return 99 ;;
	esac || return 99
	jwk=$(openssl pkey -in "$key" -pubout 2>/dev/null | node -e '
const crypto = require("crypto");
const pem = require("fs").readFileSync(0, "utf8");
const j = crypto.createPublicKey(pem).export({ format: "jwk" });
console.log(JSON.stringify({ ...j, alg: process.argv[1], use: "sig", kid: "client-key" }));' "$keyalg") ||
		return 99
	oidc_add_client "{\"client_id\":\"$id\",\"grant_types\":[\"client_credentials\"],\"response_types\":[],\
\"redirect_uris\":[],\"token_endpoint_auth_method\":\"private_key_jwt\",\
\"token_endpoint_auth_signing_alg\":\"$keyalg\",\"jwks\":{\"keys\":[$jwk]},\
\"scope\":\"$scope\",\"laps_at_alg\":\"$alg\"}"
}

oidc_add_admin_client() {
	local id=$1 scope=${2:-openid offline_access laps.read laps.secret laps.expire}
	oidc_add_client "{\"client_id\":\"$id\",\"client_name\":\"laps-get test\",\
\"grant_types\":[\"urn:ietf:params:oauth:grant-type:device_code\",\"refresh_token\"],\
\"response_types\":[],\"redirect_uris\":[],\"token_endpoint_auth_method\":\"none\",\
\"scope\":\"$scope\"}"
}

oidc_client_assertion() {
	local id=$1 key=$2 keyalg=${3:-RS256} now header payload input sig
	now=$(date +%s)
	header=$(printf '{"alg":"%s","typ":"JWT","kid":"client-key"}' "$keyalg" | _oidc_b64url)
	payload=$(printf '{"iss":"%s","sub":"%s","aud":"%s","jti":"%s","iat":%d,"exp":%d}' \
		"$id" "$id" "$OIDC_TOKEN_ENDPOINT" "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
		"$now" "$((now + 60))" | _oidc_b64url)
	input=$header.$payload
	case $keyalg in
	RS256) sig=$(printf '%s' "$input" | openssl dgst -sha256 -sign "$key" | _oidc_b64url) ;;
	EdDSA)
		sig=$(printf '%s' "$input" >"$OIDC_DIR/.assertion.in" &&
			openssl pkeyutl -sign -rawin -inkey "$key" -in "$OIDC_DIR/.assertion.in" | _oidc_b64url)
		;;
	*) return 99 ;;
	esac
	[ -n "$sig" ] || return 99
	echo "$input.$sig"
}

_oidc_resource_arg() { [ -z "${1:-}" ] || printf -- '--data-urlencode\nresource=%s\n' "$1"; }

oidc_token_secret() {
	local id=$1 file=$2 scope=${3:-laps.device} resource=${4:-$OIDC_AUDIENCE}
	# curl reads "user = id:secret" from stdin (-K -), keeping it out of argv.
	{ printf 'user = "%s:' "$id"; tr -d '\n' <"$file"; printf '"\n'; } |
		oidc_curl -sS -K - -d grant_type=client_credentials \
			--data-urlencode "scope=$scope" --data-urlencode "resource=$resource" \
			"$OIDC_TOKEN_ENDPOINT"
}

oidc_token_jwt() {
	local id=$1 key=$2 scope=${3:-laps.device} resource=${4:-$OIDC_AUDIENCE} keyalg=${5:-RS256} a
	a=$(oidc_client_assertion "$id" "$key" "$keyalg") || return 99
	oidc_curl -sS -d grant_type=client_credentials --data-urlencode "scope=$scope" \
		--data-urlencode "resource=$resource" \
		--data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
		--data-urlencode "client_assertion=$a" "$OIDC_TOKEN_ENDPOINT"
}

oidc_device_authorize() {
	local id=$1 scope=${2:-openid offline_access laps.read laps.secret laps.expire}
	oidc_curl -sS --data-urlencode "client_id=$id" --data-urlencode "scope=$scope" \
		"$OIDC_DEVICE_ENDPOINT"
}

oidc_device_token() {
	oidc_curl -sS --data-urlencode "client_id=$1" --data-urlencode "device_code=$2" \
		-d grant_type=urn:ietf:params:oauth:grant-type:device_code "$OIDC_TOKEN_ENDPOINT"
}

oidc_refresh() {
	oidc_curl -sS --data-urlencode "client_id=$1" --data-urlencode "refresh_token=$2" \
		-d grant_type=refresh_token "$OIDC_TOKEN_ENDPOINT"
}

# Print the value of hidden input NAME in the HTML on stdin.
_oidc_input() {
	grep -o "name=\"$1\" value=\"[^\"]*\"" | head -n1 | sed 's/.*value="\([^"]*\)"/\1/'
}

# Print the action of the first form in the HTML on stdin as an absolute URL
# on the issuer (the pages use both forms); nothing for another host.
_oidc_form_action() {
	local a
	a=$(grep -o '<form[^>]*action="[^"]*"' | head -n1 | sed 's/.*action="\([^"]*\)"/\1/')
	case $a in
	"$OIDC_ISSUER"/*) echo "$a" ;;
	/*) echo "$OIDC_ISSUER$a" ;;
	esac
}

oidc_approve_device() {
	local code=$1 user=$2 jar page xsrf action out rc=99
	jar=$(mktemp "$OIDC_DIR/.jar.XXXXXX") || return 99
	local c=(oidc_curl -sS -L --max-redirs 10 -b "$jar" -c "$jar")
	(
		set -e
		# 1. the user-code page and its form
		page=$("${c[@]}" "$OIDC_ISSUER/device")
		xsrf=$(_oidc_input xsrf <<<"$page")
		[ -n "$xsrf" ]
		# 2. submit the code: the confirmation page
		page=$("${c[@]}" --data-urlencode "xsrf=$xsrf" --data-urlencode "user_code=$code" \
			"$OIDC_ISSUER/device")
		grep -q 'name="confirm"' <<<"$page" || { echo "oidc: user code refused" >&2; exit 1; }
		xsrf=$(_oidc_input xsrf <<<"$page")
		# 3. confirm: redirected to the login page
		page=$("${c[@]}" --data-urlencode "xsrf=$xsrf" --data-urlencode "user_code=$code" \
			-d confirm=yes "$OIDC_ISSUER/device")
		grep -q 'name="login"' <<<"$page" || { echo "oidc: no login page" >&2; exit 1; }
		action=$(_oidc_form_action <<<"$page")
		[ -n "$action" ]
		# 4. log in (devInteractions accepts any password): the consent page
		page=$("${c[@]}" -d prompt=login --data-urlencode "login=$user" -d password=x \
			"$action")
		if grep -q 'value="consent"' <<<"$page"; then
			action=$(_oidc_form_action <<<"$page")
			page=$("${c[@]}" -d prompt=consent "$action")
		fi
		# 5. the device flow's success page
		grep -q 'Sign-in Success' <<<"$page" || { echo "oidc: approval not confirmed" >&2; exit 1; }
	)
	rc=$?
	rm -f "$jar"
	return $rc
}
