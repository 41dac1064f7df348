/*
 * fuzz_escape.c — libFuzzer target for laps_escape() (escrow/err.h), the
 * escaping every log line and error detail passes through.  Checks the
 * promises: the output fits, is NUL-terminated, has no C0 byte or DEL, is
 * valid UTF-8 without C1, line separator or bidi override code points, and
 * escaping it again changes nothing.  The first input byte picks the output
 * size, so truncation is exercised too.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless s is valid UTF-8 without the code points laps_escape removes. */
static void
check_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, len, k;
	unsigned long c;

	while (i < n) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			abort();
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			len = 2, c = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			len = 3, c = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			len = 4, c = s[i] & 0x07;
		else
			abort();
		if (i + len > n)
			abort();
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				abort();
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff) || c <= 0x9f || c == 0x2028 || c == 0x2029 ||
		    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
			abort();
		i += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out, *again;
	size_t cap, n, n2;
	int cut = 0, cut2 = 0;

	if (size == 0)
		return 0;
	cap = 4 + data[0] * 8u; /* 4 .. 2044 */
	data++;
	size--;
	if ((out = malloc(cap)) == NULL || (again = malloc(cap)) == NULL) {
		free(out);
		return 0;
	}
	n = laps_escape(out, cap, (const char *)data, size, &cut);
	if (n >= cap || out[n] != '\0' || strlen(out) != n)
		abort();
	check_utf8((const unsigned char *)out, n);
	if (cut && (n < 3 || memcmp(out + n - 3, "...", 3) != 0))
		abort();
	if (!cut && n < size)
		abort(); /* nothing dropped: the output is at least as long */
	n2 = laps_escape(again, cap, out, n, &cut2);
	if (cut2 || n2 != n || memcmp(out, again, n) != 0)
		abort();
	free(out);
	free(again);
	return 0;
}
