/*
 * console.c — the admin web console's files (see console.h, docs/CONSOLE.md).
 *
 * Every file of [console] dir whose name is [A-Za-z0-9][A-Za-z0-9._-]* and
 * whose extension is known is read once at start (capped in size and
 * number); nothing is read from disk per request, so no request path can
 * name a file outside that list.  config.json is generated here from
 * [oidc] and [console] (issuer, audience, client id, scope).
 */
#include "config.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/console.h"
#include "server/escrowd_conf.h"
#include "server/fmt.h"

#define ORIGIN_MAX 300

struct cfile {
	char name[128];
	char *data;
	size_t len;
	const char *type;
};

struct console {
	struct cfile files[CONSOLE_MAX_FILES + 1]; /* + config.json */
	size_t n;
	char csp[1024];
	const char *headers[32];
};

static const struct {
	const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *
type_of(const char *name)
{
	size_t i, n = strlen(name), e;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		e = strlen(types[i].ext);
		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

static bool
good_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return i < sizeof(((struct cfile *)0)->name);
}

/* "https://host[:port]" of the issuer URL, for connect-src. */
static int
issuer_origin(const char *issuer, char *out, size_t len)
{
	const char *p = strstr(issuer, "://"), *end;
	size_t i, n;

	if (p == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "[oidc] issuer: not a URL");
	end = strchr(p + 3, '/');
	n = end != NULL ? (size_t)(end - issuer) : strlen(issuer);
	if (n + 1 > len)
		return laps_seterr(LAPS_ERR_CONFIG, "[oidc] issuer: too long for the console");
	for (i = 0; i < n; i++)
		if (!((issuer[i] >= 'a' && issuer[i] <= 'z') ||
		      (issuer[i] >= 'A' && issuer[i] <= 'Z') ||
		      (issuer[i] >= '0' && issuer[i] <= '9') ||
		      strchr(".:-[]/", issuer[i]) != NULL))
			return laps_seterr(LAPS_ERR_CONFIG,
					   "[oidc] issuer: its origin has a character the "
					   "console's Content-Security-Policy cannot carry");
	memcpy(out, issuer, n);
	out[n] = '\0';
	return 0;
}

static int
load_dir(struct console *c, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	size_t total = 0;
	int rc = 0;

	if (d == NULL)
		return laps_seterr(LAPS_ERR_IO, "[console] dir %s: cannot open it", dir);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct cfile *f = &c->files[c->n];

		if (!good_name(e->d_name) || type_of(e->d_name) == NULL ||
		    strcmp(e->d_name, "config.json") == 0)
			continue;
		if (c->n == CONSOLE_MAX_FILES) {
			rc = laps_seterr(LAPS_ERR_TOOBIG, "[console] dir %s: more than %d files",
					 dir, CONSOLE_MAX_FILES);
			break;
		}
		if (laps_snprintf(path, sizeof path, "%s/%s", dir, e->d_name) != 0 ||
		    (rc = laps_file_read(path, CONSOLE_FILE_MAX, 0, &f->data, &f->len)) != 0) {
			rc = laps_seterr_prefix(rc != 0 ? rc : LAPS_ERR_INVALID, "[console] %s/%s",
						dir, e->d_name);
			break;
		}
		fmt_trunc(f->name, sizeof f->name, "%s", e->d_name);
		f->type = type_of(e->d_name);
		c->n++;
		if ((total += f->len) > CONSOLE_TOTAL_MAX)
			rc = laps_seterr(LAPS_ERR_TOOBIG, "[console] dir %s: over %u bytes in all",
					 dir, CONSOLE_TOTAL_MAX);
	}
	closedir(d);
	return rc;
}

static int
make_config(struct console *c, const struct laps_conf *cfg)
{
	const struct laps_oidc_conf *o = laps_oidc_conf(cfg);
	const struct laps_console_conf *k = laps_console_conf(cfg);
	const struct laps_authz_conf *a = laps_authz_conf(cfg);
	struct json_object *j = json_object_new_object(), *v = json_object_new_object();
	struct cfile *f = &c->files[c->n];
	const char *s;

	if (j == NULL || v == NULL) {
		json_object_put(j);
		json_object_put(v);
		return LAPS_ERR_NOMEM;
	}
	json_object_object_add(v, "read", json_object_new_string(a->read_value));
	json_object_object_add(v, "secret", json_object_new_string(a->secret_value));
	json_object_object_add(v, "expire", json_object_new_string(a->expire_value));
	json_object_object_add(v, "audit", json_object_new_string(a->audit_value));
	json_object_object_add(j, "rights_claim", json_object_new_string(a->rights_claim));
	json_object_object_add(j, "values", v);
	json_object_object_add(j, "issuer", json_object_new_string(o->issuer));
	json_object_object_add(j, "audience", json_object_new_string(o->audience));
	json_object_object_add(j, "client_id", json_object_new_string(k->client_id));
	json_object_object_add(j, "scope", json_object_new_string(k->scope));
	s = json_object_to_json_string_ext(j,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	f->data = s != NULL ? strdup(s) : NULL;
	json_object_put(j);
	if (f->data == NULL)
		return LAPS_ERR_NOMEM;
	f->len = strlen(f->data);
	fmt_trunc(f->name, sizeof f->name, "config.json");
	f->type = "application/json";
	c->n++;
	return 0;
}

static void
set_headers(struct console *c, const char *origin)
{
	static const char *const fixed[] = {
	    "X-Frame-Options",
	    "DENY",
	    "Referrer-Policy",
	    "no-referrer",
	    "X-Content-Type-Options",
	    "nosniff",
	    "Cache-Control",
	    "no-store",
	    "Cross-Origin-Opener-Policy",
	    "same-origin",
	    "Cross-Origin-Resource-Policy",
	    "same-origin",
	    "Permissions-Policy",
	    "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
	    NULL};
	size_t i;

	/* No inline script or style, nothing but this origin and the issuer's;
	 * 'wasm-unsafe-eval' lets libsodium's WebAssembly compile (it allows no
	 * JavaScript eval).  Trusted Types: no DOM sink takes a string. */
	fmt_trunc(
	    c->csp, sizeof c->csp,
	    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
	    "img-src 'self'; connect-src 'self' %s; base-uri 'none'; form-action 'none'; "
	    "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
	    origin);
	c->headers[0] = "Content-Security-Policy";
	c->headers[1] = c->csp;
	for (i = 0; fixed[i] != NULL; i++)
		c->headers[2 + i] = fixed[i];
	c->headers[2 + i] = NULL;
}

int
console_load(const struct laps_conf *cfg, struct console **out)
{
	const struct laps_console_conf *k = laps_console_conf(cfg);
	const struct laps_oidc_conf *o = laps_oidc_conf(cfg);
	struct console *c;
	char origin[ORIGIN_MAX];
	int rc;

	*out = NULL;
	if (k == NULL || k->enable != LAPS_YES)
		return 0;
	if (o == NULL || o->issuer == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "[console] enable: needs [oidc] issuer");
	if ((rc = issuer_origin(o->issuer, origin, sizeof origin)) != 0)
		return rc;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = load_dir(c, k->dir)) != 0 || (rc = make_config(c, cfg)) != 0) {
		console_free(c);
		return rc;
	}
	set_headers(c, origin);
	*out = c;
	return 0;
}

void
console_free(struct console *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->files[i].data);
	free(c);
}

bool
console_path(const char *path)
{
	return strcmp(path, "/console") == 0 || strncmp(path, "/console/", 9) == 0;
}

static void
plain(struct console_answer *a, unsigned status, const char *text)
{
	a->status = status;
	a->body = text;
	a->len = strlen(text);
	a->content_type = "text/plain; charset=utf-8";
}

void
console_answer(const struct console *c, const char *method, const char *path,
	       struct console_answer *a)
{
	const char *name;
	size_t i;

	memset(a, 0, sizeof *a);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		plain(a, 405, "method not allowed\n");
		a->allow = "GET, HEAD";
		return;
	}
	if (strcmp(path, "/console") == 0) {
		plain(a, 301, "moved to /console/\n");
		a->location = "/console/";
		return;
	}
	name = path + 9; /* after "/console/" */
	if (*name == '\0')
		name = "index.html";
	for (i = 0; i < c->n; i++)
		if (strcmp(c->files[i].name, name) == 0) {
			a->status = 200;
			a->body = c->files[i].data;
			a->len = c->files[i].len;
			a->content_type = c->files[i].type;
			return;
		}
	plain(a, 404, "not found\n");
}

const char *const *
console_headers(const struct console *c)
{
	return c->headers;
}
