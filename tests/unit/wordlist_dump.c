/*
 * wordlist_dump.c — helper for tests/wordlist.sh (not a test itself):
 * prints the word list compiled into libagent, one word per line.  Exit 1
 * if laps_wordlist_word() has a hole or does not end at laps_wordlist_size().
 */
#include "config.h"

#include <stdio.h>

#include "agent/passgen.h"

int
main(void)
{
	size_t n = laps_wordlist_size(), i;

	for (i = 0; i < n; i++) {
		const char *w = laps_wordlist_word(i);

		if (w == NULL) {
			fprintf(stderr, "wordlist_dump: word %zu missing\n", i);
			return 1;
		}
		if (printf("%s\n", w) < 0)
			return 1;
	}
	if (laps_wordlist_word(n) != NULL) {
		fprintf(stderr, "wordlist_dump: a word after the last (%zu)\n", n);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
