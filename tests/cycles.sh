#!/usr/bin/env bash
# tests/cycles.sh — no two files of a folder use each other (STYLE.md,
# "Layout and includes").  Read from the built objects: for each folder,
# every object of that folder's libraries (libtool's FOLDER/.libs/*.o, or
# FOLDER/*.o in a static-only build); an edge A -> B when an undefined
# symbol of A is a global symbol B defines.  Every strongly connected
# component of more than one file is a cycle; each is printed with the
# edges that close it.  Exit 1 if any, 0 if none, 77 without nm or without
# any object (not built), 99 when nm fails, a folder has no objects while
# others have, or the self-test below does not find the cycle it plants.
#
# Usage: tests/cycles.sh [FOLDER...]   (run in the build directory, or with
# top_builddir set; default folders: agent backends server escrow laps-get)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # make check runs $(SHELL)
set -u
: "${top_builddir:=.}"
nm=${NM:-nm}
command -v "$nm" >/dev/null 2>&1 || { echo "nm not found"; exit 77; }
[ $# -gt 0 ] || set -- agent backends server escrow laps-get

# Objects of a folder's libraries: libtool's FOLDER/NAME.lo names each one
# (pic_object, in FOLDER/.libs/, or non_pic_object, in FOLDER/, whichever
# was built); programs' own objects have no .lo.  automake names an object
# LIB_la-SOURCE.o when its library has its own flags, SOURCE.o otherwise;
# a source compiled for two libraries is one file: the first object is kept.
objects() {
	local dir=$1 lo o base
	local -A seen=()
	for lo in "$dir"/*.lo; do
		[ -f "$lo" ] || continue
		o=$(sed -n "s/^pic_object='\(.*\)'$/\1/p" "$lo")
		[ -n "$o" ] && [ "$o" != none ] ||
			o=$(sed -n "s/^non_pic_object='\(.*\)'$/\1/p" "$lo")
		[ -n "$o" ] && [ "$o" != none ] && [ -f "$dir/$o" ] || continue
		base=${o##*/}
		base=${base#*_la-}
		[ -z "${seen[$base]:-}" ] || continue
		seen[$base]=1
		printf '%s %s\n' "${base%.o}.c" "$dir/$o"
	done
}

# "D FILE SYMBOL" (a global definition) and "U FILE SYMBOL" (an undefined
# reference) lines for the objects listed on stdin.  Fails when nm does.
symbols() {
	local src obj
	while read -r src obj; do
		"$nm" -P "$obj" >"$tmp/nm" || { echo "$nm -P $obj failed"; return 1; }
		awk -v f="$src" '$2 ~ /^[TDRBCGSVWi]$/ { print "D", f, $1 }
				 $2 == "U"             { print "U", f, $1 }' "$tmp/nm"
	done
}

# Tarjan's algorithm over "A B" edge lines; prints one line per component
# of more than one file: the files, sorted.
components() {
	awk '
	{ if (!($1 in idx0)) { nodes[++n] = $1; idx0[$1] = 1 }
	  if (!($2 in idx0)) { nodes[++n] = $2; idx0[$2] = 1 }
	  adj[$1] = adj[$1] " " $2 }
	function strong(v,   i, k, ws, w, comp, m) {
		index_[v] = low[v] = ++counter
		stack[++sp] = v; on[v] = 1
		k = split(adj[v], ws, " ")
		for (i = 1; i <= k; i++) {
			w = ws[i]
			if (!(w in index_)) {
				strong(w)
				if (low[w] < low[v]) low[v] = low[w]
			} else if (on[w] && index_[w] < low[v])
				low[v] = index_[w]
		}
		if (low[v] == index_[v]) {
			comp = ""; m = 0
			do { w = stack[sp--]; on[w] = 0; comp = comp " " w; m++ } while (w != v)
			if (m > 1) print substr(comp, 2)
		}
	}
	END { for (i = 1; i <= n; i++) if (!(nodes[i] in index_)) strong(nodes[i]) }' |
		while read -r line; do tr ' ' '\n' <<<"$line" | sort | tr '\n' ' '; echo; done
}

# Report the cycles among the objects of folder $1 (in directory $2);
# the number found in $found.  Returns 1 when nm failed, 2 without objects.
scan() {
	local folder=$1 dir=$2 n files
	found=0
	objects "$dir" >"$tmp/objs"
	[ -s "$tmp/objs" ] || return 2
	symbols <"$tmp/objs" >"$tmp/syms" || return 1
	# edge A B SYMBOL: A uses SYMBOL, which B defines
	awk '$1 == "D" { def[$3] = def[$3] " " $2; next }
	     $1 == "U" { und[++nu] = $2 " " $3 }
	     END { for (j = 1; j <= nu; j++) {
			split(und[j], u, " ")
			k = split(def[u[2]], b, " ")
			for (i = 1; i <= k; i++) if (b[i] != u[1]) print u[1], b[i], u[2] } }' \
		"$tmp/syms" | sort -u >"$tmp/edges"
	n=$(wc -l <"$tmp/objs")
	while read -r -a files; do
		[ ${#files[@]} -gt 1 ] || continue
		found=$((found + 1))
		echo "CYCLE in $folder/: ${files[*]}"
		# the edges inside the component, with the symbols that make them
		printf '%s\n' "${files[@]}" >"$tmp/comp"
		awk 'NR == FNR { in_[$1] = 1; next }
		     ($1 in in_) && ($2 in in_) { e = $1 " -> " $2
		        if (e in syms) syms[e] = syms[e] ", " $3; else syms[e] = $3 }
		     END { for (e in syms) printf "    %s: %s\n", e, syms[e] }' \
			"$tmp/comp" "$tmp/edges" | sort
	done < <(cut -d' ' -f1,2 "$tmp/edges" | sort -u | components)
	[ "$found" -gt 0 ] ||
		echo "ok: $folder/ ($n files, $(cut -d' ' -f1,2 "$tmp/edges" | sort -u | wc -l) edges): no cycle"
	return 0
}

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

# Self-test: three objects, a.c <-> b.c and c.c -> a.c, as libtool lays
# them out; exactly the one cycle {a.c, b.c} must be found.  Needs a C
# compiler ($CC or cc); skipped without one.
cc=${CC:-cc}
if command -v "${cc%% *}" >/dev/null 2>&1; then
	mkdir -p "$tmp/self/.libs"
	printf 'int b(void);\nint a(void) { return b(); }\n' >"$tmp/self/a.c"
	printf 'int a(void);\nint b(void) { return 1; }\nint b2(void) { return a(); }\n' >"$tmp/self/b.c"
	printf 'int a(void);\nint c(void) { return a(); }\n' >"$tmp/self/c.c"
	for f in a b c; do
		$cc -c -o "$tmp/self/.libs/libself_la-$f.o" "$tmp/self/$f.c" || exit 99
		printf "pic_object='.libs/libself_la-$f.o'\nnon_pic_object=none\n" >"$tmp/self/libself_la-$f.lo"
	done
	scan self "$tmp/self" >"$tmp/self.out" || { echo "self-test: scan failed"; exit 99; }
	if [ "$found" -ne 1 ] || ! grep -qx 'CYCLE in self/: a.c b.c' "$tmp/self.out"; then
		echo "self-test: expected the one cycle a.c <-> b.c, got:"
		cat "$tmp/self.out"
		exit 99
	fi
	echo "ok: self-test (a planted cycle is found)"
else
	echo "self-test skipped: no C compiler ($cc)"
fi

cycles=0 scanned=0 missing=0
for folder in "$@"; do
	scan "$folder" "$top_builddir/$folder"
	case $? in
	0) scanned=$((scanned + 1)) cycles=$((cycles + found)) ;;
	1) exit 99 ;;
	*) echo "$folder: no library objects in $top_builddir/$folder"; missing=$((missing + 1)) ;;
	esac
done
[ "$scanned" -gt 0 ] || { echo "no objects found under $top_builddir (build first)"; exit 77; }
[ "$missing" -eq 0 ] || exit 99
echo "$cycles cycle(s)"
[ "$cycles" -eq 0 ]
