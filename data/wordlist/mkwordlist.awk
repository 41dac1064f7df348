# mkwordlist.awk — turn the EFF large word list into agent/wordlist.c.
#
# Usage: awk -f data/wordlist/mkwordlist.awk data/wordlist/eff_large_wordlist.txt
#        awk -v list=1 -f ... (the adapted words, one per line: what
#        tests/wordlist.sh compares the compiled list with)
#
# The build runs it (agent/Makemodule.am); agent/wordlist.c is not committed.
#
# Input lines are "DDDDD<TAB>word" (five dice digits 1-6).  The word list is
# adapted as documented in data/wordlist/README.md: the hyphen is removed from
# "drop-down", "felt-tip" and "t-shirt", and "yo-yo" (whose hyphen-free form
# "yoyo" is already in the list) becomes "yolk", so that every word is
# lowercase ASCII letters only.  The script refuses (exit 1, message on
# stderr) input with a malformed line, a word that is not [a-z]+ after the
# adaptation, a duplicate word, or a count other than 7776.  Plain POSIX awk.

BEGIN {
	adapt["drop-down"] = "dropdown"
	adapt["felt-tip"] = "felttip"
	adapt["t-shirt"] = "tshirt"
	adapt["yo-yo"] = "yolk"
	n = 0
	maxlen = 0
	bad = 0
}

{
	if (NF != 2 || $1 !~ /^[1-6][1-6][1-6][1-6][1-6]$/) {
		printf("%s:%d: malformed line\n", FILENAME, FNR) > "/dev/stderr"
		bad = 1
		next
	}
	w = $2
	if (w in adapt)
		w = adapt[w]
	if (w !~ /^[a-z][a-z]*$/) {
		printf("%s:%d: word '%s' is not lowercase ASCII\n", FILENAME, FNR, w) > "/dev/stderr"
		bad = 1
		next
	}
	if (w in seen) {
		printf("%s:%d: duplicate word '%s'\n", FILENAME, FNR, w) > "/dev/stderr"
		bad = 1
		next
	}
	seen[w] = 1
	word[n] = w
	n++
	if (length(w) > maxlen)
		maxlen = length(w)
}

END {
	if (bad)
		exit 1
	if (n != 7776) {
		printf("%s: %d words, expected 7776\n", FILENAME, n) > "/dev/stderr"
		exit 1
	}
	if (list) {
		for (i = 0; i < n; i++)
			print word[i]
		exit 0
	}
	print "/*"
	print " * wordlist.c — GENERATED at build time from"
	print " * data/wordlist/eff_large_wordlist.txt with data/wordlist/mkwordlist.awk;"
	print " * do not edit.  The word list is the EFF large word list (Electronic"
	print " * Frontier Foundation, 2016, CC BY 3.0), adapted: see data/wordlist/README.md."
	print " */"
	print "#include \"config.h\""
	print ""
	print "#include \"agent/passgen.h\""
	print ""
	printf("#define LAPS_WORDLIST_COUNT %d\n", n)
	printf("#define LAPS_WORDLIST_WIDTH %d /* longest word + NUL */\n", maxlen + 1)
	print ""
	print "/* Fixed-width rows: no pointers, hence no relocations. */"
	print "/* clang-format off */"
	print "static const char laps_wordlist[LAPS_WORDLIST_COUNT][LAPS_WORDLIST_WIDTH] = {"
	for (i = 0; i < n; i++)
		printf("\t\"%s\",\n", word[i])
	print "};"
	print "/* clang-format on */"
	print ""
	print "size_t"
	print "laps_wordlist_size(void)"
	print "{"
	print "\treturn LAPS_WORDLIST_COUNT;"
	print "}"
	print ""
	print "const char *"
	print "laps_wordlist_word(size_t i)"
	print "{"
	print "\tif (i >= LAPS_WORDLIST_COUNT)"
	print "\t\treturn NULL;"
	print "\treturn laps_wordlist[i];"
	print "}"
}
