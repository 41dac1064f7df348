# tests/integration/lib/swtpm.sh — a software TPM 2.0 (Debian swtpm) on
# 127.0.0.1 for the TPM key store tests (sourced).
#
# swtpm_start DIR: a fresh TPM with its state in DIR, listening on two free
# ports (server, control); prints the TCTI string OpenSSL's tpm2 provider
# takes in TPM2OPENSSL_TCTI.  swtpm_stop DIR: stops it by its PID.
# need_swtpm: exit 77 without swtpm or the tpm2 provider (tpm2-openssl).

need_swtpm() {
	command -v swtpm >/dev/null || { echo "SKIP: swtpm missing (Debian package swtpm)"; exit 77; }
	local mods
	mods=$(openssl version -m | sed -n 's/^MODULESDIR: "\(.*\)"$/\1/p')
	[ -e "$mods/tpm2.so" ] ||
		{ echo "SKIP: OpenSSL's tpm2 provider missing (Debian package tpm2-openssl)"; exit 77; }
}

swtpm_free_port() { # two consecutive free ports on 127.0.0.1: prints the first
	python3 - <<'EOF'
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        a.close(); b.close(); continue
    a.close(); b.close(); print(p); break
EOF
}

swtpm_start() {
	local dir=$1 port i
	mkdir -p "$dir" && chmod 700 "$dir"
	port=$(swtpm_free_port) || return 1
	swtpm socket --tpm2 --tpmstate dir="$dir" \
		--server type=tcp,port="$port",bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
		--flags not-need-init,startup-clear --pid file="$dir/swtpm.pid" \
		--log file="$dir/swtpm.log" --daemon || return 1
	for i in $(seq 50); do
		[ -s "$dir/swtpm.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	echo "swtpm:host=127.0.0.1,port=$port"
}

swtpm_stop() {
	local pid
	[ -s "$1/swtpm.pid" ] || return 0
	pid=$(cat "$1/swtpm.pid")
	kill "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$1/swtpm.pid"
}
