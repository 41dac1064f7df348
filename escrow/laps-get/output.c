/*
 * output.c — laps-get output: the password alone, a history table, or JSON
 * (json-c).  Everything that carries a password is wiped after writing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "err.h"
#include "fileio.h"
#include "lapsget.h"
#include "secret.h"

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

/* Wipe every string in a json-c tree (before json_object_put). */
void
lg_json_wipe(struct json_object *o)
{
	size_t i, n;

	if (o == NULL)
		return;
	switch (json_object_get_type(o)) {
	case json_type_string: {
		char *s = (char *)(uintptr_t)json_object_get_string(o);

		laps_wipe(s, (size_t)json_object_get_string_len(o));
		break;
	}
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			lg_json_wipe(json_object_array_get_idx(o, i));
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			lg_json_wipe(val);
		}
		break;
	}
	default:
		break;
	}
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

static int
entry_json(const struct lg_entry *e, struct json_object **out)
{
	struct json_object *o;
	int rc;

	*out = NULL;
	if ((o = json_object_new_object()) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = add(o, "host", json_object_new_string(e->host))) != 0 ||
	    (rc = add(o, "account", json_object_new_string(e->account))) != 0 ||
	    (rc = add_nullable(o, "password",
			       e->password ? json_object_new_string(e->password) : NULL)) != 0 ||
	    (rc = add_nullable(o, "rotated", time_or_null(e->rotated))) != 0 ||
	    (rc = add_nullable(o, "expires", time_or_null(e->expires))) != 0 ||
	    (rc = add(o, "state", json_object_new_string(e->pending ? "pending" : "confirmed"))) !=
		0 ||
	    (rc = add(o, "source", json_object_new_string(e->source))) != 0 ||
	    (rc = add_nullable(o, "key_id",
			       e->key_id[0] ? json_object_new_string(e->key_id) : NULL)) != 0)
		goto fail;
	if (e->password == NULL && e->error[0] &&
	    (rc = add(o, "error", json_object_new_string(e->error))) != 0)
		goto fail;
	*out = o; /* success */
	return 0;
fail:
	lg_json_wipe(o);
	json_object_put(o);
	return rc;
}

int
lg_json_string(const struct lg_result *res, char **out)
{
	struct json_object *root = NULL, *o = NULL, *arr;
	const char *s;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = entry_json(&res->cur, &root)) != 0)
		return rc;
	if (res->has_prev) {
		if (res->prev.host[0] != '\0') {
			if ((rc = entry_json(&res->prev, &o)) != 0)
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
			if ((rc = entry_json(&res->hist[i], &o)) != 0)
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
	if (s == NULL || (*out = strdup(s)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	laps_wipe((char *)(uintptr_t)s, strlen(s));
	rc = 0;
out:
	if (o != NULL) {
		lg_json_wipe(o);
		json_object_put(o);
	}
	lg_json_wipe(root);
	json_object_put(root);
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
