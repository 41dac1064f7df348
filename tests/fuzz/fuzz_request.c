/*
 * fuzz_request.c — laps-escrowd's request handling without the network:
 * path routing, query parameters, preconditions, every body parser and
 * every route that needs a stored record, as api_handle() sees them.
 *
 * The store holds records (three devices, each with a history; reset for
 * every input) and answers like the real ones: compare-and-set on the
 * version, idempotent retry, confirm/expire of the current record, find,
 * paged report, audit rows of several devices.  Identities are built the
 * way laps-escrowd builds them: a bearer token through auth_token_verify()
 * (jwt.c's checks, then claims to rights; the harness signs the token with
 * a key its JWKS file trusts) or a certificate name through
 * authz_from_cert(), against an [authz]/[oidc] config parsed from text.
 *
 * Input lines: IDENTITY \n METHOD \n PATH \n HEADER-LINES... \n\n BODY,
 * IDENTITY is "none", "cert NAME" or "token CLAIMS-JSON"; a "!" before it
 * makes every audit insert fail.
 */
#include "config.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/record.h"
#include "server/api.h"
#include "server/auth_token.h"
#include "server/escrowd_conf.h"
#include "tests/fuzz/jwt_signer.h"

/* ---- a store holding records ---------------------------------------- */

#define MEM_MAX 6
#define MEM_HIST 3

struct mem_rec {
	char device[LAPS_DEVICE_MAX + 1];
	char account[LAPS_ACCOUNT_MAX + 1];
	char *json;
	char rotation_id[LAPS_ROTID_HEX + 1];
	int64_t seq, version;
	char *hist[MEM_HIST];
	int64_t hist_seq[MEM_HIST];
	size_t n_hist;
};

static struct mem_rec mem[MEM_MAX];
static size_t n_mem;
static bool audit_fails;

static char *
record_json(const char *device, unsigned n, const char *state, const char *env)
{
	char buf[1024];

	snprintf(buf, sizeof buf,
		 "{\"v\":1,\"device\":\"%s\",\"account\":\"lapsadmin\",\"uid\":1001,"
		 "\"rotation_id\":\"%032x\",\"rotated_at\":%u,\"expires_at\":%u,\"state\":\"%s\","
		 "\"envelope\":\"%s\",\"key_ids\":[\"0011223344556677\"]}",
		 device, n, 1700000000u + n, 1700000000u + 1000u * n, state, env);
	return strdup(buf);
}

static void
mem_reset(void)
{
	static const char *const devs[] = {"ws01.example.test", "ws02.example.test",
					   "ws03.eu.example.test"};
	size_t i, j;

	for (i = 0; i < n_mem; i++) {
		free(mem[i].json);
		for (j = 0; j < mem[i].n_hist; j++)
			free(mem[i].hist[j]);
	}
	memset(mem, 0, sizeof mem);
	n_mem = 3;
	for (i = 0; i < n_mem; i++) {
		struct mem_rec *m = &mem[i];

		snprintf(m->device, sizeof m->device, "%s", devs[i]);
		snprintf(m->account, sizeof m->account, "lapsadmin");
		m->json = record_json(devs[i], 3, i == 1 ? "pending" : "confirmed",
				      "AQIDBAUGBwgJCgsMDQ4PEA==");
		snprintf(m->rotation_id, sizeof m->rotation_id, "%032x", 3);
		m->seq = 3;
		m->version = 10 + (int64_t)i;
		m->n_hist = i == 2 ? 0 : 2;
		for (j = 0; j < m->n_hist; j++) {
			m->hist[j] = record_json(devs[i], 2 - (unsigned)j, "confirmed",
						 "AAECAwQFBgcICQoLDA0ODw==");
			m->hist_seq[j] = 2 - (int64_t)j;
		}
	}
	audit_fails = false;
}

static struct mem_rec *
mem_find(const char *device, const char *account)
{
	size_t i;

	for (i = 0; i < n_mem; i++)
		if (strcmp(mem[i].device, device) == 0 && strcmp(mem[i].account, account) == 0)
			return &mem[i];
	return NULL;
}

static int
entry_of(const char *json, int64_t seq, int64_t version, struct store_entry *o)
{
	memset(o, 0, sizeof *o);
	if ((o->json = strdup(json)) == NULL)
		return LAPS_ERR_NOMEM;
	o->json_len = strlen(json);
	o->seq = seq;
	o->version = version;
	return 0;
}

static int
audited(const struct store_audit *a)
{
	return a != NULL && audit_fails ? LAPS_ERR_BACKEND : 0;
}

static int
m_get(void *c, const char *d, const char *a, const struct store_audit *au, struct store_entry *o)
{
	struct mem_rec *m = mem_find(d, a);
	int rc;

	memset(o, 0, sizeof *o);
	if (m == NULL)
		return LAPS_ERR_NOTFOUND;
	if ((rc = audited(au)) != 0)
		return rc;
	return entry_of(m->json, m->seq, m->version, o);
}

static int
m_put(void *c, const struct laps_record *r, const char *j, int64_t e, const struct store_audit *a,
      struct store_put_result *o)
{
	struct mem_rec *m = mem_find(r->device, r->account);
	char *dup;
	int rc;

	memset(o, 0, sizeof *o);
	if (m != NULL && strcmp(m->rotation_id, r->rotation_id) == 0) {
		o->result = strcmp(m->json, j) == 0 ? STORE_PUT_SAME : STORE_PUT_REUSED;
		o->seq = m->seq;
		o->version = m->version;
		return o->result == STORE_PUT_SAME ? 0 : LAPS_ERR_CONFLICT;
	}
	if ((m == NULL) != (e < 0) || (m != NULL && m->version != e))
		return LAPS_ERR_CONFLICT;
	if (m == NULL && n_mem == MEM_MAX)
		return LAPS_ERR_UNAVAILABLE;
	if ((rc = audited(a)) != 0)
		return rc;
	if ((dup = strdup(j)) == NULL)
		return LAPS_ERR_NOMEM;
	if (m == NULL) {
		m = &mem[n_mem++];
		memset(m, 0, sizeof *m);
		snprintf(m->device, sizeof m->device, "%s", r->device);
		snprintf(m->account, sizeof m->account, "%s", r->account);
		o->result = STORE_PUT_CREATED;
	} else {
		free(m->hist[MEM_HIST - 1]);
		memmove(m->hist + 1, m->hist, (MEM_HIST - 1) * sizeof *m->hist);
		memmove(m->hist_seq + 1, m->hist_seq, (MEM_HIST - 1) * sizeof *m->hist_seq);
		m->hist[0] = m->json;
		m->hist_seq[0] = m->seq;
		if (m->n_hist < MEM_HIST)
			m->n_hist++;
		o->result = STORE_PUT_UPDATED;
	}
	m->json = dup;
	snprintf(m->rotation_id, sizeof m->rotation_id, "%s", r->rotation_id);
	m->seq++;
	m->version += 7;
	o->seq = m->seq;
	o->version = m->version;
	return 0;
}

/* Change the current record: confirm (rot != NULL) or expire. */
static int
m_change(const char *d, const char *a, const char *rot, int64_t x, int64_t e,
	 const struct store_audit *au, bool *mismatch, struct store_entry *o)
{
	struct mem_rec *m = mem_find(d, a);
	struct laps_record r;
	char *json = NULL;
	int rc;

	*mismatch = false;
	memset(o, 0, sizeof *o);
	if (m == NULL)
		return LAPS_ERR_NOTFOUND;
	if (e != 0 && e != m->version)
		return LAPS_ERR_CONFLICT;
	if (rot != NULL && strcmp(rot, m->rotation_id) != 0) {
		*mismatch = true;
		return LAPS_ERR_CONFLICT;
	}
	if ((rc = audited(au)) != 0)
		return rc;
	laps_record_init(&r);
	if ((rc = laps_record_parse(m->json, strlen(m->json), &r)) == 0) {
		r.expires_at = x;
		if (rot != NULL)
			r.state = LAPS_STATE_CONFIRMED;
		rc = laps_record_serialise(&r, &json);
	}
	laps_record_clear(&r);
	if (rc != 0)
		return rc;
	free(m->json);
	m->json = json;
	m->version += 3;
	return entry_of(m->json, m->seq, m->version, o);
}

static int
m_confirm(void *c, const char *d, const char *a, const char *r, int64_t x, int64_t e,
	  const struct store_audit *au, bool *mm, struct store_entry *o)
{
	return m_change(d, a, r, x, e, au, mm, o);
}

static int
m_expire(void *c, const char *d, const char *a, int64_t x, int64_t e, const struct store_audit *au,
	 struct store_entry *o)
{
	bool mm;

	return m_change(d, a, NULL, x, e, au, &mm, o);
}

static int
m_history(void *c, const char *d, const char *a, size_t l, const struct store_audit *au,
	  struct store_entry_list *o)
{
	struct mem_rec *m = mem_find(d, a);
	size_t i, n;
	int rc;

	memset(o, 0, sizeof *o);
	if (m == NULL)
		return LAPS_ERR_NOTFOUND;
	if ((rc = audited(au)) != 0)
		return rc;
	n = m->n_hist < l ? m->n_hist : l;
	if (n == 0)
		return 0;
	if ((o->v = calloc(n, sizeof *o->v)) == NULL)
		return LAPS_ERR_NOMEM;
	for (i = 0; i < n; i++, o->n++)
		if ((rc = entry_of(m->hist[i], m->hist_seq[i], 0, &o->v[i])) != 0) {
			store_entry_list_free(o);
			return rc;
		}
	return 0;
}

static int
m_find(void *c, const char *name, const char *after, char (*d)[LAPS_DEVICE_MAX + 1], size_t max,
       size_t *n)
{
	size_t i, l = name != NULL ? strlen(name) : 0;

	*n = 0;
	for (i = 0; i < n_mem && *n < max; i++) {
		const char *dev = mem[i].device;

		if ((name == NULL || strcasecmp(dev, name) == 0 ||
		     (strncasecmp(dev, name, l) == 0 && dev[l] == '.')) &&
		    (after == NULL || strcmp(dev, after) > 0))
			snprintf(d[(*n)++], LAPS_DEVICE_MAX + 1, "%s", dev);
	}
	return 0;
}

static int
m_report(void *c, enum store_report_filter f, int64_t now, const char *ad, const char *aa,
	 struct store_summary *o, size_t max, size_t *n)
{
	struct laps_record r;
	size_t i;

	*n = 0;
	for (i = 0; i < n_mem && *n < max; i++) {
		struct mem_rec *m = &mem[i];

		if (ad != NULL && strcmp(m->device, ad) < 0)
			continue;
		if (ad != NULL && strcmp(m->device, ad) == 0 && aa != NULL &&
		    strcmp(m->account, aa) <= 0)
			continue;
		laps_record_init(&r);
		if (laps_record_parse(m->json, strlen(m->json), &r) == 0 &&
		    (f == STORE_REPORT_ALL ||
		     (f == STORE_REPORT_PENDING && r.state == LAPS_STATE_PENDING) ||
		     (f == STORE_REPORT_CONFIRMED && r.state == LAPS_STATE_CONFIRMED) ||
		     (f == STORE_REPORT_OVERDUE && r.expires_at < now))) {
			memset(&o[*n], 0, sizeof o[*n]);
			snprintf(o[*n].device, sizeof o[*n].device, "%s", m->device);
			snprintf(o[*n].account, sizeof o[*n].account, "%s", m->account);
			o[*n].state = r.state;
			o[*n].rotated_at = r.rotated_at;
			o[*n].expires_at = r.expires_at;
			o[*n].seq = m->seq;
			(*n)++;
		}
		laps_record_clear(&r);
	}
	return 0;
}

static int
m_append(void *c, const struct store_audit *a)
{
	return audited(a);
}

static int
m_query(void *c, const struct store_audit_query *q, struct store_audit_row *o, size_t max,
	size_t *n)
{
	static const char *const devs[] = {"ws01.example.test", "ws03.eu.example.test", NULL};
	size_t i;

	*n = 0;
	for (i = 0; i < 3 && *n < max; i++) {
		struct store_audit_row *r = &o[*n];

		if (q->device != NULL && (devs[i] == NULL || strcmp(q->device, devs[i]) != 0))
			continue;
		memset(r, 0, sizeof *r);
		r->id = 100 - (int64_t)i;
		r->time = 1700000000 + (int64_t)i;
		r->status = 200;
		r->actor = strdup("cert:CN=admin-all");
		r->kind = strdup("admin");
		r->device = devs[i] != NULL ? strdup(devs[i]) : NULL;
		r->account = devs[i] != NULL ? strdup("lapsadmin") : NULL;
		r->action = strdup(devs[i] != NULL ? "read_secret" : "authenticate");
		r->outcome = strdup("allowed");
		r->peer = strdup("127.0.0.1");
		(*n)++;
	}
	return 0;
}

static int
m_expire_many(void *c, const struct store_audit *a, size_t n, int64_t expires_at)
{
	size_t i;

	(void)c;
	for (i = 0; i < n; i++) {
		struct mem_rec *m = mem_find(a[i].device, a[i].account);

		if (m == NULL)
			return LAPS_ERR_NOTFOUND;
		if (audited(&a[i]) != 0)
			return LAPS_ERR_BACKEND;
	}
	(void)expires_at;
	return 0;
}

static int
m_approval_create(void *c, struct store_approval *a, const struct store_audit *au)
{
	(void)c;
	a->id = 1;
	return audited(au);
}

static int
m_approval_get(void *c, int64_t id, struct store_approval *out)
{
	(void)c;
	memset(out, 0, sizeof *out);
	if (id != 1)
		return LAPS_ERR_NOTFOUND;
	out->id = 1;
	snprintf(out->device, sizeof out->device, "ws03.eu.example.test");
	snprintf(out->account, sizeof out->account, "lapsadmin");
	snprintf(out->requester, sizeof out->requester, "cert:CN=helpdesk-eu");
	snprintf(out->state, sizeof out->state, "pending");
	out->expires_at = 4000000000LL;
	return 0;
}

static int
m_approval_list(void *c, int64_t now, struct store_approval *out, size_t max, size_t *n)
{
	*n = 0;
	if (max > 0 && m_approval_get(c, 1, out) == 0 && out->expires_at > now)
		*n = 1;
	return 0;
}

static int
m_approval_decide(void *c, int64_t id, const char *state, const char *by, int64_t now,
		  int64_t expires_at, const struct store_audit *au)
{
	(void)c, (void)state, (void)by, (void)now, (void)expires_at;
	return id == 1 ? audited(au) : LAPS_ERR_CONFLICT;
}

static int
m_approval_valid(void *c, const char *d, const char *a, const char *r, int64_t now)
{
	(void)c, (void)d, (void)a, (void)r, (void)now;
	return LAPS_ERR_NOTFOUND;
}

static int
m_audit_prune(void *c, int64_t before, int64_t *n)
{
	(void)c, (void)before;
	*n = 0;
	return 0;
}

static int
m_ping(void *c)
{
	return 0;
}

static const struct store_ops mem_ops = {
    .scheme = "mem",
    .ping = m_ping,
    .get = m_get,
    .put = m_put,
    .confirm = m_confirm,
    .expire = m_expire,
    .history = m_history,
    .find = m_find,
    .report = m_report,
    .expire_many = m_expire_many,
    .approval_create = m_approval_create,
    .approval_get = m_approval_get,
    .approval_list = m_approval_list,
    .approval_decide = m_approval_decide,
    .approval_valid = m_approval_valid,
    .audit_prune = m_audit_prune,
    .audit_append = m_append,
    .audit_query = m_query,
};

/* ---- identities ------------------------------------------------------ */

static struct laps_conf cfg;
static struct store mem_store = {&mem_ops, NULL};
static struct api api;
static struct auth_token *tokens;

static void
setup(void)
{
	char dir[] = "/tmp/fuzz_request.XXXXXX", path[64], text[2048];

	fuzz_sign_jwks_file(dir, path, sizeof path);
	snprintf(text, sizeof text,
		 "[oidc]\nissuer = https://issuer.test\naudience = https://laps-escrowd.test\n"
		 "jwks_file = %s\n"
		 "[authz]\nunits = eu:*.eu.example.test hq:ws0?.example.test\n"
		 "cert_admins = admin-all=laps.read,laps.secret,laps.expire,laps.audit "
		 "reader=laps.read helpdesk-eu=laps.read@eu,laps.secret@eu auditor=laps.audit@eu "
		 "mixed=laps.audit@eu,laps.secret@hq\n",
		 path);
	if (laps_conf_init(&cfg, &laps_escrowd_schema) != 0 ||
	    laps_conf_parse(&cfg, "fuzz.conf", text, strlen(text)) != 0)
		abort();
	api.store = &mem_store;
	api.cfg = &cfg;
	if (authz_init(&api.authz, &cfg) != 0 || auth_token_new(&cfg, &api.authz, &tokens) != 0)
		abort();
}

/* The identity line: 0 with *id filled, else no identity (anonymous or
 * refused, as the server would answer 401). */
static int
identity(const char *line, struct identity *id)
{
	static char tok[8192];
	char why[256];
	size_t n, l;

	memset(id, 0, sizeof *id);
	if (strncmp(line, "cert ", 5) == 0)
		return authz_from_cert(&api.authz, line + 5, "CN=fuzz", id);
	if (strncmp(line, "token ", 6) != 0)
		return -1;
	line += 6;
	l = strlen(line);
	if (l > 2048)
		return -1;
	n = fuzz_sign_token(FUZZ_SIGN_HEADER, strlen(FUZZ_SIGN_HEADER), line, l, tok, sizeof tok);
	return auth_token_verify(tokens, tok, n, 1700000000, id, why, sizeof why);
}

/* ---- the request ------------------------------------------------------ */

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
	struct api_request req;
	struct api_response resp;
	struct identity id;
	char *buf, *p, *end, *who, rot[LAPS_ROTID_HEX + 1];
	int64_t n;
	bool has;

	if (size > 70000 || (buf = malloc(size + 1)) == NULL)
		return 0;
	if (api.store == NULL)
		setup();
	mem_reset();
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	end = buf + size;
	memset(&req, 0, sizeof req);
	req.peer = "127.0.0.1";
	req.now = 1700000000;
	if ((who = line(&p, end)) == NULL)
		goto out;
	if (*who == '!') {
		audit_fails = true;
		who++;
	}
	if (identity(who, &id) == 0)
		req.id = &id;
	laps_clearerr();
	if ((req.method = line(&p, end)) == NULL || (req.path = line(&p, end)) == NULL)
		goto out;
	headers(&req, &p, end);
	req.body = p < end ? p : "";
	req.body_len = p < end ? (size_t)(end - p) : 0;
	api_handle(&api, &req, &resp);
	if (resp.body == NULL || resp.status < 200 || resp.status > 599)
		abort();
	/* no audit row, no secret: a failing audit never hands out an envelope */
	if (audit_fails && strstr(resp.body, "\"envelope\"") != NULL)
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
