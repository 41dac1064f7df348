#!/usr/bin/env bash
# bench/run-report.sh [-b BUILDDIR] [-n DEVICES] [-m MSLAPS-DEVICES] [-r ROUNDS]
#
# laps-get report at fleet scale (issue 14), next to its floor.  Generates
# DEVICES device entries (default 100,000) with laps-schema records whose
# times put them in every status (bench/bench_report_ldif: 60% ok, 10% each
# due, overdue, stuck, never; real records with the password sealed to a
# throw-away admin key), a tenth of that in a second OU (to show that peak
# RSS does not grow with N), and MSLAPS-DEVICES (default 10,000) entries of
# the Microsoft schema in a third; loads them into a throw-away slapd with
# slapadd before it starts (tests/integration/lib/slapd.sh --ldif), with a
# size limit of 1000 entries per search, so only a paged search sees them
# all.  Then, ROUNDS times (default 3), interleaved, measures with
# bench/bench_exec (wall time, CPU, peak RSS of the process itself):
#
#   laps-get report --json, --csv and the table, StartTLS, bound as a reader
#   floor: ldapsearch -ZZ as the same reader, the same filter and attributes,
#          -E pr=500/noprompt (the page size laps-get uses), to /dev/null
#
# Before measuring it checks each form's summary against what the generator
# wrote (a wrong count fails the script).  Numbers, not pass/fail: see
# bench/README.md.  Needs slapd, slapadd, ldapsearch, openssl.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$PWD n=100000 msn=10000 rounds=3
usage() { echo "usage: $0 [-b BUILDDIR] [-n DEVICES] [-m MSLAPS-DEVICES] [-r ROUNDS]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	-b | -n | -m | -r) [ $# -ge 2 ] || usage ;;&
	-b) build=$2; shift ;;
	-n) n=$2; shift ;;
	-m) msn=$2; shift ;;
	-r) rounds=$2; shift ;;
	*) usage ;;
	esac
	shift
done
for v in "$n" "$msn" "$rounds"; do case $v in '' | *[!0-9]* | 0) usage ;; esac; done
[ "$n" -ge 10 ] || usage
build=$(cd "$build" && pwd)
GET=$build/laps-get/laps-get
GEN=$build/bench/bench_report_ldif
EXEC=$build/bench/bench_exec
for f in "$GET" "$GEN" "$EXEC"; do
	[ -x "$f" ] || { echo "run-report.sh: $f not built (make && make bench/bench_exec bench/bench_report_ldif in $build)" >&2; exit 2; }
done
[ ! -d "$build/backends/.libs" ] || export LAPS_BACKEND_DIR=${LAPS_BACKEND_DIR:-$build/backends/.libs}
command -v ldapsearch >/dev/null || { echo "run-report.sh: ldapsearch missing" >&2; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/laps-bench-report.XXXXXX")
chmod 700 "$W"
cleanup() { slapd_cleanup >/dev/null 2>&1 || true; rm -rf "$W"; }
export top_srcdir=$top
. "$top/tests/integration/lib/slapd.sh"
trap cleanup EXIT
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# ---- the directory (not measured) --------------------------------------------------
small=$((n / 10))
"$GET" keygen -o "$W/admin.key" --no-passphrase >/dev/null 2>&1
t0=$(date +%s%N)
"$GEN" -n "$n" -s laps -k "$W/admin.key.pub" -o big >"$W/all.ldif" 2>"$W/exp.big"
"$GEN" -n "$small" -s laps -k "$W/admin.key.pub" -o small >>"$W/all.ldif" 2>"$W/exp.small"
"$GEN" -n "$msn" -s mslaps -o ms >>"$W/all.ldif" 2>"$W/exp.ms"
t1=$(date +%s%N)
slapd_start "$W/slapd" --quiet --size-limit 1000 --ldif "$W/all.ldif"
t2=$(date +%s%N)
rm -f "$W/all.ldif"
echo "run-report.sh: LDIF of $((n + small + msn)) entries in $(secs "$t0" "$t1") s, slapadd + slapd start in $(secs "$t1" "$t2") s"

# ---- configurations ------------------------------------------------------------
conf() { # NAME OU SCHEMA
	cat >"$W/$1.conf" <<CONF
[agent]
accounts = lapsadmin
[escrow]
backend = ldap
[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $LDAP_READER_DN
bind_secret_file = $LDAP_READER_SECRET
base = ou=$2,$LDAP_BASE
filter = (cn=%h)
schema = $3
CONF
	chmod 600 "$W/$1.conf"
}
conf big big laps
conf small small laps
conf ms ms mslaps
head -n1 "$LDAP_READER_SECRET" | tr -d '\n' >"$W/reader.pw" # ldapsearch -y takes the whole file
chmod 600 "$W/reader.pw"
export LDAPTLS_CACERT=$LDAP_CA
floor() { # OU FILTER ATTRS...
	local ou=$1 f=$2
	shift 2
	echo ldapsearch -LLL -x -ZZ -H "$LDAP_URI" -D "$LDAP_READER_DN" -y "$W/reader.pw" \
		-E pr=500/noprompt -b "ou=$ou,$LDAP_BASE" -s sub "$f" cn "$@"
}

# ---- correctness first: every form counts what the generator wrote ------------
expect_line() { # SET -> "T entries: A ok, B due, C overdue, D stuck, E never"
	read -r ok due over stuck never < <(tr '=' ' ' <"$W/exp.$1" | awk '{ print $2, $4, $6, $8, $10 }')
	echo "$((ok + due + over + stuck + never)) entries: $ok ok, $due due, $over overdue, $stuck stuck, $never never"
}
for set in big small ms; do
	want=$(expect_line $set)
	rc=0
	"$GET" report -c "$W/$set.conf" >"$W/out" 2>"$W/err" || rc=$?
	got=$(tail -n1 "$W/out")
	[ "$rc" = 11 ] && [ "$got" = "$want" ] ||
		{ cat "$W/err" >&2; echo "run-report.sh: $set table: exit $rc, '$got', expected 11, '$want'" >&2; exit 1; }
	rows=$(($("$GET" report -c "$W/$set.conf" --csv 2>/dev/null | wc -l) - 1)) || true
	[ "$rows" = "${want%% *}" ] || { echo "run-report.sh: $set csv: $rows rows, expected ${want%% *}" >&2; exit 1; }
	echo "run-report.sh: ou=$set: $want (table and CSV agree)"
done

# ---- the figures ----------------------------------------------------------------
FIG=()
declare -A LABEL CMD
fig() { FIG+=("$1"); LABEL[$1]=$2; CMD[$1]=$3; }
for set in big small ms; do
	case $set in
	big) cnt=$n what="laps" f='(objectClass=lapsDevice)' a="lapsCurrent lapsExpiration" ;;
	small) cnt=$small what="laps" f='(objectClass=lapsDevice)' a="lapsCurrent lapsExpiration" ;;
	ms) cnt=$msn what="mslaps" f='(|(objectClass=computer)(objectClass=lapsMsCompat))' a="msLAPS-PasswordExpirationTime" ;;
	esac
	fig "${set}_json" "$cnt $what, report --json" "-x 11 $GET report -c $W/$set.conf --json"
	fig "${set}_csv" "$cnt $what, report --csv" "-x 11 $GET report -c $W/$set.conf --csv"
	fig "${set}_table" "$cnt $what, report (table)" "-x 11 $GET report -c $W/$set.conf"
	fig "${set}_floor" "$cnt $what, floor: ldapsearch pr=500" "$(floor "$set" "$f" $a)"
done
declare -A WALL RSS CPU
for ((r = 1; r <= rounds; r++)); do
	ids=("${FIG[@]}")
	((r % 2)) || mapfile -t ids < <(printf '%s\n' "${FIG[@]}" | tac)
	for id in "${ids[@]}"; do
		# shellcheck disable=SC2086 # CMD holds words (no spaces inside them)
		out=$("$EXEC" ${CMD[$id]} 2>"$W/stderr") ||
			{ cat "$W/stderr" >&2; echo "run-report.sh: ${LABEL[$id]} failed" >&2; exit 1; }
		read -r w m c _ <<<"$out" # _: bench_exec's per-command peaks
		WALL[$id]+="$w " RSS[$id]+="$m " CPU[$id]+="$c "
	done
done

# ---- the table --------------------------------------------------------------------
med() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rng() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo / 1e6, hi / 1e6 }'; }
printf 'run-report.sh: %d round(s), %s, %s, %d CPU(s), load %s\n' "$rounds" "$(uname -sr)" \
	"$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'build: %s (%s)\n\n' "$build" "$(cd "$top" && git describe --always --dirty 2>/dev/null || echo '?')"
fmt='%-40s | %-18s | %-7s | %-8s | %s\n'
printf "$fmt" figure "wall s med (range)" "CPU s" "RSS MiB" "vs floor (wall)"
printf "$fmt" "" "" "" "" "" | tr ' |' '-+'
for id in "${FIG[@]}"; do
	wm=$(med "${WALL[$id]}")
	fm=$(med "${WALL[${id%_*}_floor]}")
	printf "$fmt" "${LABEL[$id]}" "$(awk -v w="$wm" 'BEGIN { printf "%.2f", w / 1e6 }') ($(rng "${WALL[$id]}"))" \
		"$(awk -v c="$(med "${CPU[$id]}")" 'BEGIN { printf "%.2f", c / 1e6 }')" \
		"$(awk -v k="$(med "${RSS[$id]}")" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"$(awk -v a="$wm" -v b="$fm" 'BEGIN { printf "%.2fx", a / b }')"
done
echo
echo "floor: ldapsearch -x -ZZ as the same reader, the same filter, cn and the attributes laps-get reads,"
echo "       -E pr=500/noprompt, output to /dev/null; server size limit 1000 entries per search."
