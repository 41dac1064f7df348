#!/bin/sh
# laps-get keygen: key files, modes, the public line, passphrase handling.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"

printf 's3cret passphrase\n' >"$T/pass"

expect 0 "keygen with --passphrase-fd" \
	"$LAPS_GET" keygen -o "$T/k1" --comment "alice@example" --passphrase-fd 3 3<"$T/pass"
check "stdout is one line" "$(wc -l <"$T/out")" -eq 1
check "stdout is the public key line" "$(cat "$T/out")" = "$(cat "$T/k1.pub")"
check "public line format" "$(cut -d' ' -f1 "$T/out")" = laps-x25519
check "public line has the comment" "$(cut -d' ' -f4- "$T/out")" = "alice@example"
check "key id is 16 hex digits" "$(cut -d' ' -f3 "$T/out" | grep -cE '^[0-9a-f]{16}$')" -eq 1
check "private key mode 0600" "$(stat -c %a "$T/k1")" = 600
check "public key mode 0644" "$(stat -c %a "$T/k1.pub")" = 644
check "the passphrase is not in the key file" "$(grep -c 's3cret' "$T/k1")" -eq 0
check "the key file differs from an unprotected one" "$(grep -c . "$T/k1")" -ge 1

# the key opens with the passphrase and only with it: through a record
mkdir -m 700 "$T/escrow"
printf '[escrow]\nbackend = file\nrecipients = %s\n[file]\ndir = %s\n' "$T/k1.pub" "$T/escrow" >"$T/c.conf"
chmod 600 "$T/c.conf"
if [ -x "$MKREC" ]; then
	printf 'pw-k1\n' | "$MKREC" -c "$T/c.conf" -d h -a lapsadmin || exit 99
	expect 0 "the new key opens a record" "$LAPS_GET" -c "$T/c.conf" -k "$T/k1" -P 3 h 3<"$T/pass"
	out_is pw-k1
	expect 7 "an empty passphrase is refused" "$LAPS_GET" -c "$T/c.conf" -k "$T/k1" -P 3 h 3</dev/null
fi

umask 077
expect 0 "keygen --no-passphrase" "$LAPS_GET" keygen -o "$T/k2" --no-passphrase
err_has "NOT protected"
check "public key mode 0644 despite umask 077" "$(stat -c %a "$T/k2.pub")" = 644
check "private key mode 0600" "$(stat -c %a "$T/k2")" = 600
check "the two keys differ" "$(cut -d' ' -f2 "$T/k1.pub")" != "$(cut -d' ' -f2 "$T/k2.pub")"
check "default comment user@host" "$(cut -d' ' -f4 "$T/k2.pub" | grep -c @)" -eq 1

cp "$T/k2" "$T/k2.orig"
expect 10 "refuses to overwrite a key" "$LAPS_GET" keygen -o "$T/k2" --no-passphrase
err_has "exists"
check "the old key is untouched" "$(cmp -s "$T/k2" "$T/k2.orig" && echo same)" = same
touch "$T/k3.pub"
expect 10 "refuses when FILE.pub exists" "$LAPS_GET" keygen -o "$T/k3" --no-passphrase
check "no private key left behind" ! -e "$T/k3"

# without -o: the default ~/.config/laps/admin.key (issue 27), in a throw-away HOME
mkdir -m 700 "$T/home"
expect 0 "keygen without -o writes the default key" env HOME="$T/home" "$LAPS_GET" keygen --no-passphrase
check "~/.config/laps/admin.key" -s "$T/home/.config/laps/admin.key"
expect 1 "--no-passphrase with --passphrase-fd" \
	"$LAPS_GET" keygen -o "$T/k4" --no-passphrase --passphrase-fd 0
expect 1 "extra argument" "$LAPS_GET" keygen -o "$T/k4" --no-passphrase extra
expect 1 "comment with a newline" "$LAPS_GET" keygen -o "$T/k4" --no-passphrase --comment "$(printf 'a\nb')"
expect 7 "empty passphrase from a descriptor" "$LAPS_GET" keygen -o "$T/k5" -P 3 3</dev/null
check "no key written" ! -e "$T/k5"
if command -v setsid >/dev/null; then
	expect 7 "no terminal and no --passphrase-fd" setsid -w "$LAPS_GET" keygen -o "$T/k6" </dev/null
	check "no key written" ! -e "$T/k6"
fi
expect 0 "keygen --help" "$LAPS_GET" keygen --help

# the terminal: asked twice without echo (script(1) provides the pty; the
# lines are fed after a pause because the prompt flushes typed-ahead input)
if command -v script >/dev/null; then
	d=1
	[ -z "${LAPS_TEST_VALGRIND:-}" ] || d=4
	tty_feed() { for l in "$@"; do sleep $d; printf '%s\n' "$l"; done; sleep 2; }
	tty_run() { # tty_run LINE... -- CMD (one string)
		local lines=() cmd
		while [ "$1" != -- ]; do lines+=("$1"); shift; done
		cmd=$2
		rc=0
		tty_feed "${lines[@]}" | timeout 60 script -qec "$cmd" /dev/null >"$T/out" 2>&1 || rc=$?
	}
	ntests=$((ntests + 1))
	tty_run 'tty secret 7' 'tty secret 7' -- "'$LAPS_GET' keygen -o '$T/kt'"
	if [ "$rc" = 0 ] && [ -s "$T/kt" ]; then echo "ok: keygen asks on the terminal"; else fail "keygen on a tty: exit $rc"; cat "$T/out" >&2; fi
	check "prompted for the passphrase" "$(grep -c 'New passphrase' "$T/out")" -eq 1
	check "asked to confirm" "$(grep -c 'Same passphrase again' "$T/out")" -eq 1
	check "the passphrase is not echoed" "$(grep -c 'tty secret' "$T/out")" -eq 0
	ntests=$((ntests + 1))
	tty_run 'first one' 'second one' -- "'$LAPS_GET' keygen -o '$T/kt2'"
	if [ "$rc" = 7 ] && [ ! -e "$T/kt2" ]; then echo "ok: mismatched passphrases refused"; else fail "mismatch: exit $rc"; fi
	check "says they do not match" "$(grep -c 'do not match' "$T/out")" -eq 1
	# Ctrl-C at the prompt ends the program (after restoring the terminal)
	rc=0
	{ sleep $d; printf '\003'; sleep 2; } | timeout 60 script -qec "'$LAPS_GET' keygen -o '$T/kt3'" /dev/null >"$T/out" 2>&1 || rc=$?
	check "Ctrl-C at the prompt ends keygen" "$rc" -ne 0
	check "no key written after Ctrl-C" ! -e "$T/kt3"
	if [ -x "$MKREC" ]; then
		printf '[escrow]\nbackend = file\nrecipients = %s\n[file]\ndir = %s\n' "$T/kt.pub" "$T/escrow" >"$T/ct.conf"
		chmod 600 "$T/ct.conf"
		printf 'pw-tty\n' | "$MKREC" -c "$T/ct.conf" -d ttyhost -a lapsadmin || exit 99
		tty_run 'tty secret 7' -- "'$LAPS_GET' -c '$T/ct.conf' -k '$T/kt' ttyhost"
		check "laps-get reads the passphrase from the terminal" "$rc" = 0
		check "and prints the password" "$(grep -c '^pw-tty' "$T/out")" -eq 1
		check "without echoing the passphrase" "$(grep -c 'tty secret' "$T/out")" -eq 0
	fi
else
	echo "script(1) missing: terminal tests skipped"
fi

finish
