/*
 * fuzz_rest_http.c — the REST client's view of a response
 * (backends/rest_http.c): the header lines through the same callback
 * libcurl calls (ETag, Content-Type, Retry-After, Location, a new "HTTP/"
 * status line forgetting the previous ones), the body in pieces under the
 * request's cap, and Retry-After as the retry logic reads it.
 *
 * Input: byte 0 picks the cap and the piece size; then HEADER-LINES, an
 * empty line, BODY.  Properties: the kept header values hold no control
 * character and fit their fields; the Content-Type is lower-case without
 * parameters; a body over the cap is refused and never kept past it.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/rest_http.h"
#include "backends/rest_json.h"
#include "escrow/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
clean(const char *v, size_t cap)
{
	size_t i, n = strnlen(v, cap);

	if (n == cap)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = {64, 4096, 65536, 1 << 20};
	struct rest_resp r;
	const char *h, *sep, *body;
	size_t hlen, blen, cap, i;
	int64_t secs;
	int rc;

	if (size < 1)
		return 0;
	cap = caps[data[0] & 3];
	h = (const char *)data + 1;
	sep = memmem(h, size - 1, "\r\n\r\n", 4);
	hlen = sep != NULL ? (size_t)(sep - h) + 2 : size - 1;
	body = sep != NULL ? sep + 4 : h + size - 1;
	blen = (size_t)((const char *)data + size - body);
	rest_resp_init(&r);
	rc = rest_http_feed(&r, cap, h, hlen, body, blen, (size_t)(data[0] >> 2) * 97 + 1);
	if (rc == 0 ? blen > cap || r.len != blen || (blen > 0 && memcmp(r.body, body, blen) != 0)
		    : rc != LAPS_ERR_TOOBIG || blen <= cap || r.len > cap)
		abort();
	clean(r.etag, sizeof r.etag);
	clean(r.ctype, sizeof r.ctype);
	clean(r.retry_after, sizeof r.retry_after);
	clean(r.location, sizeof r.location);
	for (i = 0; r.ctype[i] != '\0'; i++)
		if (isupper((unsigned char)r.ctype[i]) || r.ctype[i] == ';' || r.ctype[i] == ' ')
			abort();
	if (r.retry_after[0] != '\0' &&
	    rest_parse_retry_after(r.retry_after, 1700000000, &secs) == 0 && secs < 0)
		abort();
	rest_resp_clear(&r);
	laps_clearerr();
	return 0;
}
