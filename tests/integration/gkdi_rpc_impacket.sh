# gkdi_rpc_impacket.sh — sourced by gkdi_rpc.sh: impacket_gkdi.py reads
# the PDUs and stubs of $T/dump (connections 1..3) in the cached Debian 13
# root of ldap_impacket.sh (python3-impacket), entered with unshare +
# chroot.  Without that root (not cached, no mmdebstrap, no namespaces) it
# says so and checks nothing.
imp_cache=${LAPS_DEB_CACHE:-/var/cache/laps-ci}
imp_base=$(ls -t "$imp_cache"/laps-trixie-impacket-*.tar 2>/dev/null | head -n 1)
if [ -z "$imp_base" ] || ! unshare --mount --pid --fork --net true 2>/dev/null; then
	echo "# impacket check not run: no cached Debian 13 impacket root (run ldap_impacket.sh once)"
else
	imp_root=$T/trixie
	mkdir -p "$imp_root" && tar -xf "$imp_base" -C "$imp_root" || exit 99
	mkdir -p "$imp_root/tmp/dump" && cp "$T"/dump/* "$imp_root/tmp/dump/" &&
		cp "$top_srcdir/tests/integration/impacket_gkdi.py" "$imp_root/tmp/" || exit 99
	imp_sd=$("$top_builddir/tests/unit/gkdi_tool" sd "$SID") || exit 99
	imp_rk=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["RootKeyId"])' "$T/rootkey.json")
	unshare --mount --propagation private --pid --fork --net -- /bin/bash -c '
		set -e
		r=$1
		mount -t proc proc "$r/proc"
		mount -t tmpfs -o mode=0755,nosuid tmpfs "$r/dev"
		for n in null zero urandom random; do touch "$r/dev/$n"; mount --bind "/dev/$n" "$r/dev/$n"; done
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
			python3 /tmp/impacket_gkdi.py /tmp/dump "$2" "$3"' in-root "$imp_root" "$imp_sd" "$imp_rk" \
		>"$T/impacket.out" 2>&1
	cat "$T/impacket.out"
	grep -q "reader response: a seed-key" "$T/impacket.out" &&
		grep -q "refused response: E_ACCESSDENIED" "$T/impacket.out" &&
		! grep -q "^FAIL\|Traceback" "$T/impacket.out" &&
		pass "impacket parses our bind, request and GetKey stubs and the server's answers" ||
		fail "impacket check"
fi
