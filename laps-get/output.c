/*
 * output.c — laps-get output: the password alone, a history table, or JSON
 * (json-c).  Everything that carries a password is wiped after writing;
 * passwords never pass through json-c (see pw_placeholder).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/json_secret.h"
#include "escrow/secret.h"
#include "laps-get/lapsget.h"

#define TIMEBUF 32

/* Write all of buf to fd 1. */
static int
write_stdout(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(STDOUT_FILENO, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return laps_seterr(LAPS_ERR_IO, "cannot write to standard output: %s",
					   strerror(errno));
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}


static int
add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (val == NULL)
		return LAPS_ERR_NOMEM;
	if (json_object_object_add(obj, key, val) != 0) {
		json_object_put(val);
		return LAPS_ERR_NOMEM;
	}
	return 0;
}

static struct json_object *
time_or_null(int64_t t)
{
	char buf[TIMEBUF];

	if (t <= 0)
		return NULL; /* json-c: a NULL value is JSON null */
	return json_object_new_string(lg_format_time(t, buf, sizeof buf));
}

/* val NULL = JSON null. */
static int
add_nullable(struct json_object *obj, const char *key, struct json_object *val)
{
	if (val == NULL)
		return json_object_object_add(obj, key, NULL) == 0 ? 0 : LAPS_ERR_NOMEM;
	return add(obj, key, val);
}

/*
 * The passwords never enter json-c: its serialisation buffer (a printbuf)
 * grows with realloc(), which frees the old block without wiping it, so a
 * password written there would be left behind in freed heap memory.  Each
 * password is represented in the tree by a placeholder string
 * "<random nonce>-<index>", and after serialisation the quoted placeholders
 * are replaced by the JSON-escaped passwords in one exactly-sized buffer
 * that is wiped when freed.
 */
#define PW_NONCE_HEX 32 /* 128-bit nonce: no host, error text ... can match it */
#define PW_TAG_MAX (PW_NONCE_HEX + 1 + 3 + 1)
#define PW_SLOTS_MAX 999 /* three decimal digits */

struct pw_slots {
	char nonce[PW_NONCE_HEX + 1];
	const char **pw; /* borrowed passwords, by index */
	size_t n, cap;
};

/* JSON string escaping of s; dst NULL = only count.  Returns the length. */
static size_t
json_escape(char *dst, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc = 0;

		switch (ch) {
		case '"':
			esc = '"';
			break;
		case '\\':
			esc = '\\';
			break;
		case '\b':
			esc = 'b';
			break;
		case '\f':
			esc = 'f';
			break;
		case '\n':
			esc = 'n';
			break;
		case '\r':
			esc = 'r';
			break;
		case '\t':
			esc = 't';
			break;
		default:
			break;
		}
		if (esc != 0) {
			if (dst != NULL) {
				dst[o] = '\\';
				dst[o + 1] = esc;
			}
			o += 2;
		} else if (ch < 0x20 || ch == 0x7f) {
			if (dst != NULL) {
				dst[o] = '\\';
				dst[o + 1] = 'u';
				dst[o + 2] = '0';
				dst[o + 3] = '0';
				dst[o + 4] = hex[ch >> 4];
				dst[o + 5] = hex[ch & 15];
			}
			o += 6;
		} else {
			if (dst != NULL)
				dst[o] = (char)ch;
			o++;
		}
	}
	return o;
}

/* A placeholder JSON string for pw (registered in sl), or NULL. */
static struct json_object *
pw_placeholder(struct pw_slots *sl, const char *pw)
{
	char tag[PW_TAG_MAX];

	if (sl->n >= sl->cap || sl->n >= PW_SLOTS_MAX)
		return NULL;
	if (laps_snprintf(tag, sizeof tag, "%s-%03zu", sl->nonce, sl->n) != 0)
		return NULL;
	sl->pw[sl->n++] = pw;
	return json_object_new_string(tag);
}

/* If p starts a quoted placeholder of sl, its index, else -1. */
static long
pw_match(const struct pw_slots *sl, const char *p)
{
	size_t i;
	long idx = 0;

	if (p[0] != '"' || strncmp(p + 1, sl->nonce, PW_NONCE_HEX) != 0 ||
	    p[1 + PW_NONCE_HEX] != '-')
		return -1;
	for (i = 0; i < 3; i++) {
		char c = p[2 + PW_NONCE_HEX + i];

		if (c < '0' || c > '9')
			return -1;
		idx = idx * 10 + (c - '0');
	}
	if (p[2 + PW_NONCE_HEX + 3] != '"' || (size_t)idx >= sl->n)
		return -1;
	return idx;
}

#define PW_QUOTED_LEN (2 + PW_NONCE_HEX + 1 + 3) /* "nonce-NNN" with quotes */

/* Serialised text s with every placeholder replaced: *out malloc'd. */
static int
pw_substitute(const struct pw_slots *sl, const char *s, char **out)
{
	const char *p;
	size_t total = 0, o = 0;
	long idx;
	char *buf;

	*out = NULL;
	for (p = s; *p != '\0';) {
		if ((idx = pw_match(sl, p)) >= 0) {
			total += 2 + json_escape(NULL, sl->pw[idx]);
			p += PW_QUOTED_LEN;
		} else {
			total++;
			p++;
		}
	}
	if ((buf = malloc(total + 1)) == NULL)
		return LAPS_ERR_NOMEM;
	for (p = s; *p != '\0';) {
		if ((idx = pw_match(sl, p)) >= 0) {
			buf[o++] = '"';
			o += json_escape(buf + o, sl->pw[idx]);
			buf[o++] = '"';
			p += PW_QUOTED_LEN;
		} else {
			buf[o++] = *p++;
		}
	}
	buf[o] = '\0';
	*out = buf; /* success: freed with laps_freezero(*out, strlen(*out) + 1) */
	return 0;
}

static int
entry_json(const struct lg_entry *e, struct pw_slots *sl, struct json_object **out)
{
	struct json_object *o;
	int rc;

	*out = NULL;
	if ((o = json_object_new_object()) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = add(o, "host", json_object_new_string(e->host))) != 0 ||
	    (rc = add(o, "account", json_object_new_string(e->account))) != 0 ||
	    (rc = e->password != NULL /* out of memory must not turn it into null */
		      ? add(o, "password", pw_placeholder(sl, e->password))
		      : add_nullable(o, "password", NULL)) != 0 ||
	    (rc = add_nullable(o, "rotated", time_or_null(e->rotated))) != 0 ||
	    (rc = add_nullable(o, "expires", time_or_null(e->expires))) != 0 ||
	    (rc = add(o, "state", json_object_new_string(e->pending ? "pending" : "confirmed"))) !=
		0 ||
	    (rc = add(o, "source", json_object_new_string(e->source))) != 0 ||
	    (rc = add(o, "encrypted", json_object_new_boolean(e->encrypted))) != 0 ||
	    (rc = add_nullable(o, "key_id",
			       e->key_id[0] ? json_object_new_string(e->key_id) : NULL)) != 0)
		goto fail;
	if (e->password == NULL && e->error[0] &&
	    (rc = add(o, "error", json_object_new_string(e->error))) != 0)
		goto fail;
	*out = o; /* success */
	return 0;
fail:
	json_object_put(o);
	return rc;
}

int
lg_json_string(const struct lg_result *res, char **out)
{
	struct json_object *root = NULL, *o = NULL, *arr;
	struct pw_slots sl;
	unsigned char nonce[PW_NONCE_HEX / 2];
	const char *s;
	size_t i;
	int rc;

	*out = NULL;
	memset(&sl, 0, sizeof sl);
	if (res->n_hist > PW_SLOTS_MAX - 2)
		return laps_seterr(LAPS_ERR_TOOBIG, "too many history entries for JSON output");
	if (laps_crypto_init() != 0)
		return LAPS_ERR_INTERNAL;
	randombytes_buf(nonce, sizeof nonce);
	sodium_bin2hex(sl.nonce, sizeof sl.nonce, nonce, sizeof nonce);
	sl.cap = res->n_hist + 2;
	if ((sl.pw = calloc(sl.cap, sizeof *sl.pw)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = entry_json(&res->cur, &sl, &root)) != 0 ||
	    (rc = add_nullable(root, "rotate_by", time_or_null(lg_rotate_by(res)))) != 0)
		goto out;
	if (res->has_prev) {
		if (res->prev.host[0] != '\0') {
			if ((rc = entry_json(&res->prev, &sl, &o)) != 0)
				goto out;
		} else {
			/* no previous record: say why */
			if ((o = json_object_new_object()) == NULL ||
			    (rc = add(o, "error", json_object_new_string(res->prev.error))) != 0) {
				rc = LAPS_ERR_NOMEM;
				goto out;
			}
		}
		rc = add(root, "previous", o);
		o = NULL;
		if (rc != 0)
			goto out;
	}
	if (res->want_history) {
		if ((arr = json_object_new_array()) == NULL) {
			rc = LAPS_ERR_NOMEM;
			goto out;
		}
		if ((rc = add(root, "history", arr)) != 0)
			goto out;
		for (i = 0; i < res->n_hist; i++) {
			if ((rc = entry_json(&res->hist[i], &sl, &o)) != 0)
				goto out;
			if (json_object_array_add(arr, o) != 0) {
				rc = LAPS_ERR_NOMEM;
				goto out;
			}
			o = NULL;
		}
	}
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	rc = pw_substitute(&sl, s, out);
out:
	json_object_put(o);
	json_object_put(root);
	free(sl.pw);
	return rc;
}

int
lg_print_json(const struct lg_result *res)
{
	char *s = NULL;
	size_t len;
	int rc;

	if ((rc = lg_json_string(res, &s)) != 0)
		return rc;
	len = strlen(s);
	rc = write_stdout(s, len);
	if (rc == 0)
		rc = write_stdout("\n", 1);
	laps_freezero(s, len + 1);
	return rc;
}

static int
print_line(const char *pw)
{
	int rc;

	if ((rc = write_stdout(pw, strlen(pw))) != 0)
		return rc;
	return write_stdout("\n", 1);
}

/* "ROTATED  STATE  PASSWORD" for --history in text mode. */
static int
print_row(const struct lg_entry *e)
{
	char t[TIMEBUF], head[TIMEBUF + 32];
	int rc;

	if (e->rotated > 0)
		lg_format_time(e->rotated, t, sizeof t);
	else
		(void)snprintf(t, sizeof t, "-");
	(void)snprintf(head, sizeof head, "%-20s  %-9s  ", t, e->pending ? "pending" : "confirmed");
	if ((rc = write_stdout(head, strlen(head))) != 0)
		return rc;
	if (e->password == NULL) {
		(void)snprintf(head, sizeof head, "-\n");
		return write_stdout(head, strlen(head));
	}
	return print_line(e->password);
}

int
lg_print_text(const struct lg_result *res, const char *progname)
{
	const struct lg_entry *c = &res->cur;
	size_t i;
	int rc;

	lg_print_rotate_notice(res, progname);
	if (res->want_history) {
		if ((rc = print_row(c)) != 0)
			return rc;
		for (i = 0; i < res->n_hist; i++) {
			if (res->hist[i].password == NULL)
				fprintf(stderr, "%s: history entry %zu: %s\n", progname, i + 1,
					res->hist[i].error);
			if ((rc = print_row(&res->hist[i])) != 0)
				return rc;
		}
		if (c->pending)
			fprintf(stderr,
				"%s: the newest rotation of %s/%s is pending: the agent "
				"may not have set it yet, so the next older password may still "
				"be the active one.\n",
				progname, c->host, c->account);
		return 0;
	}
	if ((rc = print_line(c->password)) != 0)
		return rc;
	if (!c->pending)
		return 0;
	if (res->has_prev && res->prev.password != NULL) {
		if ((rc = print_line(res->prev.password)) != 0)
			return rc;
		fprintf(stderr,
			"%s: the rotation of %s/%s is pending: the first line is the new "
			"password, the second the previous one, and either may be active.\n",
			progname, c->host, c->account);
	} else {
		fprintf(stderr,
			"%s: the rotation of %s/%s is pending and the previous password "
			"is not available (%s): the password shown may not be active yet.\n",
			progname, c->host, c->account,
			res->prev.error[0] ? res->prev.error : "no history");
	}
	return 0;
}
