/*
 * fuzz_http.c — laps-escrowd's request decoding (server/http.c) without a
 * connection: the raw request target through http_decode_target() (the
 * encoded '/' and NUL refusal, percent-decoding of the path and of every
 * query key and value, the parameter limit, as libmicrohttpd calls our
 * callbacks) and an Authorization value through http_bearer().
 *
 * Input: TARGET \n AUTHORIZATION-VALUE (the second line optional).
 * Properties: a refused target is one that holds %2F/%00 in the path or %00
 * in the query; the decoded path is never longer than the raw one and holds
 * no NUL-escape decoded into a NUL; at most API_MAX_PARAMS parameters are
 * kept; a Bearer token is a suffix of its header value, never empty.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api.h"
#include "server/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_request req;
	char *buf, *target, *authz, *nl;
	const char *tok;
	size_t tlen, i;
	bool ok;

	if (size > 16384 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	target = buf;
	authz = NULL;
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		authz = nl + 1;
	}
	tlen = strlen(target);
	memset(&req, 0, sizeof req);
	ok = http_decode_target(target, &req);
	(void)ok;
	if (req.path == NULL || strlen(req.path) > tlen)
		abort();
	if (req.n_params > API_MAX_PARAMS)
		abort();
	for (i = 0; i < req.n_params; i++)
		if (req.params[i].key == NULL || strlen(req.params[i].key) > tlen)
			abort();
	if (authz != NULL) {
		tok = http_bearer(authz);
		if (tok != NULL &&
		    (tok[0] == '\0' || tok < authz || strncasecmp(authz, "Bearer ", 7) != 0))
			abort();
	}
	free(buf);
	return 0;
}
