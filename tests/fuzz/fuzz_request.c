/*
 * fuzz_request.c — laps-escrowd's request handling without the network:
 * path routing, query parameters, preconditions and every body parser, as
 * api_handle() sees them, with a store that answers "not found" (and the
 * body parsers called directly too).
 *
 * Input: METHOD \n PATH \n HEADER-LINES... \n\n BODY, where the first byte
 * picks the identity (device / admin / anonymous).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "server/api.h"
#include "server/escrowd_conf.h"

static int
nf_get(void *c, const char *d, const char *a, const struct store_audit *au, struct store_entry *o)
{
	memset(o, 0, sizeof *o);
	return LAPS_ERR_NOTFOUND;
}
static int
nf_put(void *c, const struct laps_record *r, const char *j, int64_t e, const struct store_audit *a,
       struct store_put_result *o)
{
	memset(o, 0, sizeof *o);
	return LAPS_ERR_CONFLICT;
}
static int
nf_confirm(void *c, const char *d, const char *a, const char *r, int64_t x, int64_t e,
	   const struct store_audit *au, bool *m, struct store_entry *o)
{
	*m = false;
	memset(o, 0, sizeof *o);
	return LAPS_ERR_NOTFOUND;
}
static int
nf_expire(void *c, const char *d, const char *a, int64_t x, int64_t e,
	  const struct store_audit *au, struct store_entry *o)
{
	memset(o, 0, sizeof *o);
	return LAPS_ERR_NOTFOUND;
}
static int
nf_history(void *c, const char *d, const char *a, size_t l, const struct store_audit *au,
	   struct store_entry_list *o)
{
	memset(o, 0, sizeof *o);
	return LAPS_ERR_NOTFOUND;
}
static int
nf_find(void *c, const char *n, const char *a, char (*d)[LAPS_DEVICE_MAX + 1], size_t m, size_t *o)
{
	*o = 0;
	return 0;
}
static int
nf_report(void *c, enum store_report_filter f, int64_t now, const char *d, const char *a,
	  struct store_summary *o, size_t m, size_t *n)
{
	*n = 0;
	return 0;
}
static int
nf_append(void *c, const struct store_audit *a)
{
	return 0;
}
static int
nf_query(void *c, const struct store_audit_query *q, struct store_audit_row *o, size_t m,
	 size_t *n)
{
	*n = 0;
	return 0;
}
static int
nf_ping(void *c)
{
	return 0;
}

static const struct store_ops stub_ops = {
    .scheme = "stub", .ping = nf_ping, .get = nf_get, .put = nf_put, .confirm = nf_confirm,
    .expire = nf_expire, .history = nf_history, .find = nf_find, .report = nf_report,
    .audit_append = nf_append, .audit_query = nf_query,
};

static struct laps_conf cfg;
static struct store stub = {&stub_ops, NULL};
static struct api api;

static char *
line(char **p, char *end)
{
	char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl == NULL)
		nl = end;
	*nl = '\0';
	*p = nl + 1;
	return s;
}

static void
headers(struct api_request *req, char **p, char *end)
{
	char *h, *v;

	while ((h = line(p, end)) != NULL && *h != '\0') {
		if ((v = strchr(h, ':')) == NULL)
			continue;
		*v++ = '\0';
		while (*v == ' ')
			v++;
		if (strcmp(h, "If-Match") == 0)
			req->if_match = v;
		else if (strcmp(h, "If-None-Match") == 0)
			req->if_none_match = v;
		else if (strcmp(h, "Content-Type") == 0)
			req->content_type = v;
		else if (req->n_params < API_MAX_PARAMS) {
			req->params[req->n_params].key = h;
			req->params[req->n_params++].value = v;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const units[] = {"eu:*.eu.example.test"};
	struct api_request req;
	struct api_response resp;
	struct identity id;
	char *buf, *p, *end, rot[LAPS_ROTID_HEX + 1];
	int64_t n;
	bool has;

	if (size < 1 || size > 70000 || (buf = malloc(size + 1)) == NULL)
		return 0;
	if (api.store == NULL) {
		if (laps_conf_init(&cfg, &laps_escrowd_schema) != 0)
			abort();
		laps_authz_conf(&cfg)->units[0] = strdup(units[0]);
		laps_authz_conf(&cfg)->n_units = 1;
		api.store = &stub;
		api.cfg = &cfg;
		if (authz_init(&api.authz, &cfg) != 0)
			abort();
	}
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	p = buf;
	end = buf + size - 1;
	memset(&req, 0, sizeof req);
	memset(&id, 0, sizeof id);
	id.kind = data[0] % 3 == 0 ? ID_DEVICE : ID_ADMIN;
	snprintf(id.device, sizeof id.device, "ws01.example.test");
	snprintf(id.actor, sizeof id.actor, "fuzz");
	id.global = data[0] & 0x0f;
	id.unit_rights[0] = data[0] >> 4;
	req.id = data[0] % 7 == 6 ? NULL : &id;
	req.peer = "127.0.0.1";
	req.now = 1700000000;
	if ((req.method = line(&p, end)) == NULL || (req.path = line(&p, end)) == NULL)
		goto out;
	headers(&req, &p, end);
	req.body = p < end ? p : "";
	req.body_len = p < end ? (size_t)(end - p) : 0;
	api_handle(&api, &req, &resp);
	if (resp.body == NULL || resp.status < 200 || resp.status > 599)
		abort();
	api_response_clear(&resp);
	(void)!api_parse_confirm(req.body, req.body_len, rot, &n);
	(void)!api_parse_expire(req.body, req.body_len, &has, &n);
	if (req.if_match != NULL)
		(void)!api_parse_etag(req.if_match, &n);
out:
	free(buf);
	return 0;
}
