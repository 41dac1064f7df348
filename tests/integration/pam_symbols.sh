#!/bin/sh
# tests/integration/pam_symbols.sh — what pam_laps.so exports and imports.
#
#  1. It exports exactly pam_sm_open_session and pam_sm_close_session
#     (pam/pam_laps.map + -fvisibility=hidden): nothing of libescrow.
#  2. It imports nothing that exits, aborts or prints: no exit/_exit/abort/
#     err()/assert/printf/puts/perror/system/popen.
#  3. Its imports from third-party libraries are the known, reviewed list
#     below (libsodium only; nothing of json-c, which -Wl,--gc-sections
#     removes with the libescrow objects the module cannot reach).  None
#     of those that can abort (sodium_init, sodium_malloc/free) is on the
#     module's path: the marker's temporary name comes from getrandom(2),
#     not libsodium (see docs/PAM.md).  randombytes_* must not come back.  A new third-party import fails this test until it is
#     reviewed and added here.
#  4. No text relocations.
#  5. It needs (DT_NEEDED) no library it does not use: libsodium, libpam and
#     libc only — not libjson-c, which would be mapped into every process
#     that opens a PAM session.
set -u
: "${top_builddir:=.}"
so=$top_builddir/pam/.libs/pam_laps.so
NM=${NM:-nm}
READELF=${READELF:-readelf}

if [ ! -f "$so" ]; then
	echo "ERROR: $so not built"
	exit 99
fi
command -v "$NM" >/dev/null 2>&1 || { echo "SKIP: nm not found"; exit 77; }
command -v "$READELF" >/dev/null 2>&1 || { echo "SKIP: readelf not found"; exit 77; }

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# 1. exports (ignoring the sanitizer runtime's, in --enable-sanitizers builds)
exports=$("$NM" -D --defined-only "$so" | awk '{ print $NF }' |
	grep -v '^__asan\|^__ubsan\|^__sanitizer\|^__lsan\|^_init$\|^_fini$' | sort | tr '\n' ' ')
if [ "$exports" = "pam_sm_close_session pam_sm_open_session " ]; then
	ok "exports: $exports"
else
	ko "exports are '$exports', want 'pam_sm_close_session pam_sm_open_session'"
fi

# 2. forbidden imports
imports=$("$NM" -D --undefined-only "$so" | awk '{ print $NF }' | sed 's/@.*//' | sort -u)
deny='^(exit|_exit|_Exit|quick_exit|abort|err|errx|verr|verrx|warn|warnx|vwarn|vwarnx|__assert_fail|__assert_perror_fail|perror|puts|printf|__printf_chk|vprintf|__vprintf_chk|system|popen|json_.*)$'
bad=$(printf '%s\n' "$imports" | grep -E "$deny" | tr '\n' ' ')
if [ -z "$bad" ]; then
	ok "no exit/abort/print imports"
else
	ko "forbidden imports: $bad"
fi

# 3. imports from the project's third-party libraries must be reviewed
allowed='^(sodium_init|sodium_malloc|sodium_free|sodium_memzero|sodium_memcmp)$'
third=$(printf '%s\n' "$imports" |
	grep -E '^(sodium_|randombytes_|crypto_|json_|ldap_|ber_|curl_|EVP_|OPENSSL_|SSL_|BIO_|ERR_|sqlite3_|MHD_|crypt)' |
	tr '\n' ' ')
unknown=$(printf '%s\n' "$imports" |
	grep -E '^(sodium_|randombytes_|crypto_|json_|ldap_|ber_|curl_|EVP_|OPENSSL_|SSL_|BIO_|ERR_|sqlite3_|MHD_|crypt)' |
	grep -Ev "$allowed" | tr '\n' ' ')
if [ -z "$unknown" ]; then
	ok "third-party imports reviewed: $third"
else
	ko "unreviewed third-party imports: $unknown"
fi

# 4. no text relocations
if "$READELF" -d "$so" | grep -q TEXTREL; then
	ko "text relocations"
else
	ok "no text relocations"
fi

# 5. no library it does not use (sanitizer runtimes aside)
needed=$("$READELF" -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
	grep -v '^libasan\|^libubsan\|^ld-linux' | sed 's/\.so.*//' | sort | tr '\n' ' ')
if [ "$needed" = "libc libpam libsodium " ]; then
	ok "needs: $needed"
else
	ko "needs '$needed', want 'libc libpam libsodium' (no libjson-c)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
