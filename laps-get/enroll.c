/*
 * enroll.c — laps-get enroll-token and laps-get device: laps-escrowd's
 * enrollment tokens and enrolled devices (docs/REST-API.md 11.1, 11.2)
 * through the backend's admin slot (the rest backend).
 *
 *   enroll-token create --unit U --uses N --expires D [--name-pattern P]
 *   enroll-token list | revoke ID
 *   device list [--status enabled|disabled] | disable|enable|reenroll HOST
 *
 * A new token is printed once, alone on standard output (so that
 * "> token-file" makes the file laps-agent enroll reads); its id and
 * limits go to standard error.  The answer that carried it is wiped.
 * Listings never show a token, even if a server sent one.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/isotime.h"
#include "escrow/json_secret.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "laps-get/lapsget.h"

#define ANSWER_MAX (4 * 1024 * 1024)
#define JSON_DEPTH 8
#define PATH_MAX_ 512
#define TOKEN_ID_LEN 16
/* laps-et-<hex id>.<base64url> */
#define TOKEN_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
#define USES_MAX 1000000
#define EXPIRES_MAX 31622400 /* laps-escrowd's limit: 366 days */
#define PATTERN_MAX 128
#define UNIT_MAX 64
#define TIMEBUF 32

/* ---- the command line ---- */

static int
parse_uses(const char *s, long long *out)
{
	if (laps_parse_int64(s, 1, USES_MAX, out) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "--uses: '%s' is not 1..%d", s, USES_MAX);
	return 0;
}

static int
parse_expires(const char *s, int64_t *out)
{
	if (laps_config_parse_duration(s, out) != 0 || *out < 1 || *out > EXPIRES_MAX)
		return laps_seterr(LAPS_ERR_INVALID,
				   "--expires: '%s' is not a duration of 1s..366d (e.g. 12h, 7d)",
				   s);
	return 0;
}

/* One option; c is getopt's answer. */
static int
admin_option(int c, struct lg_admin_opts *o, const char **config, const char **source)
{
	switch (c) {
	case 'c':
		*config = optarg;
		return 0;
	case 's':
		*source = optarg;
		return 0;
	case 'u':
		o->unit = optarg;
		if (optarg[0] != '\0' && strlen(optarg) <= UNIT_MAX)
			return 0;
		return laps_seterr(LAPS_ERR_INVALID, "--unit: empty or too long");
	case 'n':
		return parse_uses(optarg, &o->uses);
	case 'e':
		return parse_expires(optarg, &o->expires_in);
	case 'p':
		o->name_pattern = optarg;
		if (optarg[0] != '\0' && strlen(optarg) <= PATTERN_MAX)
			return 0;
		return laps_seterr(LAPS_ERR_INVALID, "--name-pattern: empty or too long");
	case 'S':
		o->status = optarg;
		if (strcmp(optarg, "enabled") == 0 || strcmp(optarg, "disabled") == 0)
			return 0;
		return laps_seterr(LAPS_ERR_INVALID, "--status: '%s' is not enabled or disabled",
				   optarg);
	case 'j':
		o->json = true;
		return 0;
	case 'v':
		laps_log_set_level(LAPS_LOG_DEBUG);
		return 0;
	case 'h':
		o->help = true;
		return 0;
	default:
		return LAPS_ERR_INVALID; /* getopt said why */
	}
}

static const struct {
	const char *group, *verb;
	enum lg_admin_cmd cmd;
	const char *opts; /* the options it takes, beyond -c -s -j -v -h */
	bool operand;	  /* takes ID or HOST */
} verbs[] = {
    {"enroll-token", "create", LG_TOKEN_CREATE, "unep", false},
    {"enroll-token", "list", LG_TOKEN_LIST, "", false},
    {"enroll-token", "revoke", LG_TOKEN_REVOKE, "", true},
    {"device", "list", LG_DEVICE_LIST, "S", false},
    {"device", "disable", LG_DEVICE_DISABLE, "", true},
    {"device", "enable", LG_DEVICE_ENABLE, "", true},
    {"device", "reenroll", LG_DEVICE_REENROLL, "", true},
};

static bool
valid_operand(enum lg_admin_cmd cmd, const char *s)
{
	size_t n = strlen(s);

	if (cmd == LG_TOKEN_REVOKE)
		return n == TOKEN_ID_LEN && strspn(s, "0123456789abcdef") == n;
	/* a device name as laps-escrowd takes it: letters, digits, '-', '.', '_' */
	return n > 0 && n <= LAPS_DEVICE_MAX && s[0] != '.' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == n;
}

/* The checks across options, once getopt is done. */
static int
admin_check(int nidx, int argc, char **argv, struct lg_admin_opts *o)
{
	const char *name = NULL;

	if (verbs[nidx].operand)
		name = verbs[nidx].cmd == LG_TOKEN_REVOKE ? "ID" : "HOST";

	if (name == NULL && optind != argc)
		return laps_seterr(LAPS_ERR_INVALID, "%s %s takes no argument", verbs[nidx].group,
				   verbs[nidx].verb);
	if (name != NULL && argc - optind != 1)
		return laps_seterr(LAPS_ERR_INVALID, "%s %s takes one %s", verbs[nidx].group,
				   verbs[nidx].verb, name);
	if (name != NULL) {
		o->operand = argv[optind];
		if (!valid_operand(o->cmd, o->operand))
			return laps_seterr(LAPS_ERR_INVALID, "'%.80s' is not a %s", o->operand,
					   o->cmd == LG_TOKEN_REVOKE
					       ? "token id (16 hexadecimal digits)"
					       : "device name");
	}
	if (o->cmd == LG_TOKEN_CREATE && (o->unit == NULL || o->uses == 0 || o->expires_in == 0))
		return laps_seterr(LAPS_ERR_INVALID,
				   "enroll-token create needs --unit, --uses and --expires");
	return 0;
}

int
lg_admin_parse(int argc, char **argv, struct lg_admin_opts *o, const char **config,
	       const char **source)
{
	static const struct option lopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"source", required_argument, NULL, 's'},
	    {"unit", required_argument, NULL, 'u'},
	    {"uses", required_argument, NULL, 'n'},
	    {"expires", required_argument, NULL, 'e'},
	    {"name-pattern", required_argument, NULL, 'p'},
	    {"status", required_argument, NULL, 'S'},
	    {"json", no_argument, NULL, 'j'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	size_t i;
	int c, rc;

	memset(o, 0, sizeof *o);
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (argc > 1 && strcmp(argv[0], verbs[i].group) == 0 &&
		    strcmp(argv[1], verbs[i].verb) == 0)
			break;
	if (i == sizeof verbs / sizeof verbs[0])
		return laps_seterr(LAPS_ERR_INVALID, "%s: say %s", argv[0],
				   strcmp(argv[0], "device") == 0
				       ? "list, disable, enable or reenroll"
				       : "create, list or revoke");
	o->cmd = verbs[i].cmd;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "c:s:u:n:e:p:S:jvh", lopts, NULL)) != -1) {
		if (strchr("unepS", c) != NULL && strchr(verbs[i].opts, c) == NULL)
			return laps_seterr(LAPS_ERR_INVALID, "%s %s does not take that option",
					   verbs[i].group, verbs[i].verb);
		if ((rc = admin_option(c, o, config, source)) != 0)
			return rc;
		if (o->help)
			return 0;
	}
	return admin_check((int)i, argc - 1, argv + 1, o);
}

/* ---- the answers ---- */

static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* A string member, or "-"; "?" for one a terminal should not see (a
 * control character, or longer than a device name: the server's text is
 * outside input). */
static const char *
str_of(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);
	const unsigned char *p;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return "-";
	if (json_object_get_string_len(v) > LAPS_DEVICE_MAX)
		return "?";
	for (p = (const unsigned char *)json_object_get_string(v); *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "?";
	return json_object_get_string(v);
}

static int64_t
int_of(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);

	return v != NULL && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

/* A time member as "YYYY-MM-DDTHH:MM:SSZ", or "-". */
static const char *
time_of(struct json_object *o, const char *key, char *buf, size_t len)
{
	int64_t t = int_of(o, key);

	if (t <= 0)
		return snprintf(buf, len, "-"), buf;
	return laps_isotime_format(t, buf, len);
}

/* The time members of o rewritten as ISO 8601 strings (the form of
 * laps-get report --json); absent and null stay null. */
static void
iso_times(struct json_object *o)
{
	static const char *const keys[] = {"expires_at", "created_at", "revoked_at", "enrolled_at",
					   "renewed_at", "not_after",  "disabled_at"};
	char t[TIMEBUF];

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (member(o, keys[i]) != NULL && int_of(o, keys[i]) > 0)
			json_object_object_add(
			    o, keys[i], json_object_new_string(time_of(o, keys[i], t, sizeof t)));
}

static int
print_json(struct json_object *o)
{
	if (printf("%s\n", json_object_to_json_string_ext(
			       o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		return laps_seterr(LAPS_ERR_IO, "cannot write to standard output");
	return 0;
}

/* The array member key of a listing, every element an object. */
static int
listing(struct json_object *o, const char *key, const char *what, struct json_object **arr)
{
	size_t i, n;

	*arr = member(o, key);
	if (*arr == NULL || !json_object_is_type(*arr, json_type_array))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: the answer has no \"%s\" list", what, key);
	n = json_object_array_length(*arr);
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(*arr, i), json_type_object))
			return laps_seterr(LAPS_ERR_FORMAT, "%s: %s[%zu] is not an object", what,
					   key, i);
	return 0;
}

static const char *
token_state(struct json_object *t, int64_t now)
{
	if (int_of(t, "revoked_at") > 0)
		return "revoked";
	if (int_of(t, "expires_at") <= now)
		return "expired";
	return int_of(t, "uses_left") <= 0 ? "used-up" : "active";
}

static void
print_token_row(struct json_object *t, int64_t now)
{
	char e[TIMEBUF], uses[48];

	snprintf(uses, sizeof uses, "%lld/%lld", (long long)int_of(t, "uses_left"),
		 (long long)int_of(t, "uses"));
	printf("%-16s  %-12s  %-16s  %-15s  %-20s  %-8s  %s\n", str_of(t, "id"), str_of(t, "unit"),
	       str_of(t, "name_pattern"), uses, time_of(t, "expires_at", e, sizeof e),
	       token_state(t, now), str_of(t, "created_by"));
}

static void
print_device_row(struct json_object *d)
{
	char en[TIMEBUF], na[TIMEBUF];
	struct json_object *r = member(d, "reenroll_allowed");

	printf("%-32s  %-8s  %-20s  %-20s  %-6s  %s\n", str_of(d, "device"), str_of(d, "status"),
	       time_of(d, "enrolled_at", en, sizeof en), time_of(d, "not_after", na, sizeof na),
	       str_of(d, "via"), r != NULL && json_object_get_boolean(r) ? "allowed" : "-");
}

/* enroll-token list, device list: a table, or the server's list as JSON
 * (times in ISO 8601).  A "token" member is dropped whatever the server sent. */
static int
show_list(struct json_object *o, const struct lg_admin_opts *opt, const char *what)
{
	bool tokens = opt->cmd == LG_TOKEN_LIST;
	struct json_object *arr, *e;
	int64_t now = (int64_t)time(NULL);
	size_t i, n;
	int rc;

	if ((rc = listing(o, tokens ? "tokens" : "devices", what, &arr)) != 0)
		return rc;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		json_object_object_del(e, "token");
		if (opt->json)
			iso_times(e);
	}
	if (opt->json)
		return print_json(o);
	if (tokens)
		printf("%-16s  %-12s  %-16s  %-15s  %-20s  %-8s  %s\n", "ID", "UNIT", "PATTERN",
		       "USES LEFT", "EXPIRES", "STATE", "CREATED BY");
	else
		printf("%-32s  %-8s  %-20s  %-20s  %-6s  %s\n", "DEVICE", "STATUS", "ENROLLED",
		       "NOT AFTER", "VIA", "REENROLL");
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if (tokens)
			print_token_row(e, now);
		else
			print_device_row(e);
	}
	return 0;
}

/* enroll-token create: the token alone on stdout, once; the rest on stderr. */
static int
show_created(struct json_object *o, const struct lg_admin_opts *opt, const char *what)
{
	struct json_object *tok = member(o, "token");
	char e[TIMEBUF];

	if (tok == NULL || !json_object_is_type(tok, json_type_string) ||
	    strncmp(json_object_get_string(tok), "laps-et-", 8) != 0 ||
	    strspn(json_object_get_string(tok), TOKEN_CHARS) !=
		(size_t)json_object_get_string_len(tok))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: the answer holds no token", what);
	if (opt->json) {
		iso_times(o);
		return print_json(o);
	}
	if (printf("%s\n", json_object_get_string(tok)) < 0)
		return laps_seterr(LAPS_ERR_IO, "cannot write to standard output");
	fprintf(stderr,
		"laps-get: enrollment token %s: unit %s%s%s, %lld uses, until %s; it is shown "
		"this once\n",
		str_of(o, "id"), str_of(o, "unit"), member(o, "name_pattern") ? ", names " : "",
		member(o, "name_pattern") ? str_of(o, "name_pattern") : "",
		(long long)int_of(o, "uses"), time_of(o, "expires_at", e, sizeof e));
	return 0;
}

/* revoke, disable, enable, reenroll: one line (or the object as JSON). */
static int
show_changed(struct json_object *o, const struct lg_admin_opts *opt)
{
	static const char *const done[] = {
	    [LG_TOKEN_REVOKE] = "revoked",
	    [LG_DEVICE_DISABLE] = "disabled",
	    [LG_DEVICE_ENABLE] = "enabled",
	    [LG_DEVICE_REENROLL] = "may enroll once more",
	};

	if (opt->json) {
		iso_times(o);
		return print_json(o);
	}
	printf("%s %s: %s\n", opt->cmd == LG_TOKEN_REVOKE ? "enrollment token" : "device",
	       opt->operand, done[opt->cmd]);
	return 0;
}

/* ---- the requests ---- */

/* The JSON body of enroll-token create (no secret in it). */
static int
create_body(const struct lg_admin_opts *o, char **out)
{
	struct json_object *b = json_object_new_object();
	int rc = 0;

	if (b == NULL)
		return LAPS_ERR_NOMEM;
	json_object_object_add(b, "unit", json_object_new_string(o->unit));
	json_object_object_add(b, "uses", json_object_new_int64(o->uses));
	json_object_object_add(b, "expires_in", json_object_new_int64(o->expires_in));
	if (o->name_pattern != NULL)
		json_object_object_add(b, "name_pattern", json_object_new_string(o->name_pattern));
	if ((*out = strdup(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN))) == NULL)
		rc = LAPS_ERR_NOMEM;
	json_object_put(b);
	return rc;
}

static int
request_of(const struct lg_admin_opts *o, const char **method, char *path, size_t len)
{
	static const char *const suffix[] = {
	    [LG_TOKEN_REVOKE] = "revoke",
	    [LG_DEVICE_DISABLE] = "disable",
	    [LG_DEVICE_ENABLE] = "enable",
	    [LG_DEVICE_REENROLL] = "reenroll",
	};

	*method = "POST";
	switch (o->cmd) {
	case LG_TOKEN_CREATE:
		return laps_snprintf(path, len, "/v1/enroll-tokens");
	case LG_TOKEN_LIST:
		*method = "GET";
		return laps_snprintf(path, len, "/v1/enroll-tokens");
	case LG_DEVICE_LIST:
		*method = "GET";
		return laps_snprintf(path, len, "/v1/enrolled-devices%s%s",
				     o->status ? "?status=" : "", o->status ? o->status : "");
	case LG_TOKEN_REVOKE:
		return laps_snprintf(path, len, "/v1/enroll-tokens/%s/%s", o->operand,
				     suffix[o->cmd]);
	default: /* the operand was checked: nothing in it needs encoding */
		return laps_snprintf(path, len, "/v1/enrolled-devices/%s/%s", o->operand,
				     suffix[o->cmd]);
	}
}

int
lg_admin_show(const char *answer, size_t len, const struct lg_admin_opts *o, const char *what)
{
	struct json_object *j = NULL;
	int rc;

	if (answer == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: empty answer", what);
	if ((rc = laps_json_parse_secret(answer, len, ANSWER_MAX, JSON_DEPTH, what, &j)) != 0)
		return rc;
	if (o->cmd == LG_TOKEN_CREATE)
		rc = show_created(j, o, what);
	else if (o->cmd == LG_TOKEN_LIST || o->cmd == LG_DEVICE_LIST)
		rc = show_list(j, o, what);
	else
		rc = show_changed(j, o);
	laps_json_free_secret(j);
	if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		rc = laps_seterr(LAPS_ERR_IO, "cannot write to standard output");
	return rc;
}

/* A 404 names what was not there; a 403 says which right is missing. */
static int
explain(int rc, const struct lg_admin_opts *o)
{
	bool dev = o->cmd >= LG_DEVICE_LIST;

	if (rc == LAPS_ERR_NOTFOUND && o->operand != NULL)
		return lg_seterr_prefix(rc, dev ? "no enrolled device of that name you may manage"
						: "no enrollment token of that id you may manage");
	if (rc == LAPS_ERR_ACCESS)
		return lg_seterr_prefix(rc,
					o->cmd == LG_DEVICE_LIST
					    ? "this needs the read or the enroll right "
					      "(laps.enroll, laps-escrowd's [authz] enroll_value)"
					    : "this needs the enroll right (laps.enroll, "
					      "laps-escrowd's [authz] enroll_value) on its unit");
	return rc;
}

int
lg_admin_run(struct laps_backend *b, const struct lg_admin_opts *o)
{
	char path[PATH_MAX_], *body = NULL, *answer = NULL;
	const char *method;
	size_t len = 0;
	int rc;

	if ((rc = request_of(o, &method, path, sizeof path)) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "request too long");
	if (o->cmd == LG_TOKEN_CREATE && (rc = create_body(o, &body)) != 0)
		return rc;
	rc = laps_backend_admin(b, method, path, body, &answer, &len);
	free(body);
	if (rc != 0)
		return explain(rc, o);
	rc = lg_admin_show(answer, len, o, path);
	if (answer != NULL)
		laps_freezero(answer, len + 1);
	return rc;
}
