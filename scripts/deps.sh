# scripts/deps.sh — sourced by scripts/test.sh and scripts/demo.sh.
# The Debian 12 packages laps needs to build, test and demo.  One list,
# installed with apt-get (after apt-get update) when anything is missing.

LAPS_DEPS=(
	build-essential autoconf automake libtool pkg-config make gcc clang
	libclang-rt-14-dev
	libssl-dev libcurl4-openssl-dev libldap2-dev libsasl2-dev libsodium-dev libjson-c-dev
	libcrypt-dev libcunit1-dev libpam0g-dev libmicrohttpd-dev libsqlite3-dev libgnutls28-dev curl
	slapd ldap-utils openssl gnutls-bin ca-certificates
	libpam-wrapper libpamtest0-dev
	krb5-kdc krb5-admin-server libsasl2-modules-gssapi-mit libkrb5-dev
	mandoc systemd valgrind python3 procps util-linux xz-utils
	git curl
	postgresql libpq-dev sqlite3
	softhsm2 libengine-pkcs11-openssl
	swtpm tpm2-openssl libtss2-tcti-swtpm0
	debhelper dh-autoreconf dpkg-dev fakeroot lintian blhc mmdebstrap gpg debian-archive-keyring
	chromium
)
# swtpm + tpm2-openssl (+ its swtpm TCTI): the TPM 2.0 key store tests
# (tests/integration/est_agent_tpm.sh) and bench/run-est-tpm.sh.
# chromium (large: about 100 MB with its libraries) runs the web console's
# browser tests (tests/integration/console.sh) through npm puppeteer-core.
# The OIDC issuer of the tests runs on Node.js (>= 18) with npm.  A Node.js
# from elsewhere (e.g. NodeSource, which bundles npm) is used when present;
# otherwise Debian's.
command -v npm >/dev/null 2>&1 || LAPS_DEPS+=(nodejs npm)

laps_install_deps() {
	local missing=() p
	for p in "${LAPS_DEPS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		echo "deps: all ${#LAPS_DEPS[@]} packages present"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages (run as root to install): ${missing[*]}" >&2
		return 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Keep the packages' own daemons (slapd, krb5-kdc, postgresql) from starting: the
	# tests run their own on loopback.
	local own_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		own_policy=1
	fi
	local rc=0
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
	[ "$own_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
	[ "$rc" = 0 ] || { echo "deps: apt-get install failed ($rc)" >&2; return "$rc"; }
	echo "deps: installed"
}
