/*
 * api_policy.c — the REST side of the escrow policies (server/policy.h):
 * what a secret or history read asks of the store and what its answer
 * says (docs/REST-API.md §5.2, §5.3).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_impl.h"
#include "server/fmt.h"
#include "server/policy.h"

int64_t
api_policy_expire_by(struct api *api, const struct api_request *req, const struct api_target *t)
{
	int64_t grace = policy_read_grace(&api->authz, t->device);

	if (grace < 0)
		return 0;
	return req->now + grace > 0 ? req->now + grace : 1;
}

void
api_policy_announce(struct api_response *resp, int64_t expire_by)
{
	if (expire_by > 0 && resp->status == 200)
		fmt_trunc(resp->rotate_by, sizeof resp->rotate_by, "%lld", (long long)expire_by);
}

char *
api_policy_history_body(char *body, int64_t expire_by)
{
	char field[48];
	size_t len, flen;
	char *out;

	if (body == NULL || expire_by <= 0)
		return body;
	len = strlen(body); /* '{"records":[...]}' */
	fmt_trunc(field, sizeof field, ",\"rotate_by\":%lld}", (long long)expire_by);
	flen = strlen(field);
	if (len == 0 || body[len - 1] != '}' || (out = realloc(body, len + flen)) == NULL) {
		free(body);
		return NULL;
	}
	memcpy(out + len - 1, field, flen + 1);
	return out;
}
