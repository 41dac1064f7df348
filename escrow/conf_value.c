/*
 * conf_value.c — the values of configuration keys: numbers, durations,
 * the checks of the generic types (conf.h), enum names and the overrides
 * pam_laps applies from its arguments.  Knows no section; conf.c (the
 * parser) calls it, never the other way round.
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/conf.h"
#include "escrow/conf_value.h"
#include "escrow/err.h"

#define MIN_S 60LL
#define HOUR_S 3600LL
#define DAY_S 86400LL

const char *const laps_conf_yesno_names[] = {"no", "yes", NULL};

/* ------------------------------------------------------------------ */
/* Durations and numbers                                               */

int
laps_conf_parse_digits(const char *s, size_t n, long long *out)
{
	long long v = 0;
	size_t i;

	if (n == 0)
		return LAPS_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return LAPS_ERR_INVALID;
		if (v > (LLONG_MAX - (s[i] - '0')) / 10)
			return LAPS_ERR_INVALID;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
laps_config_parse_duration(const char *s, int64_t *out)
{
	long long v, mult = 1;
	size_t n;

	if (s == NULL || out == NULL)
		return LAPS_ERR_INVALID;
	n = strlen(s);
	if (n == 0)
		return LAPS_ERR_INVALID;
	switch (s[n - 1]) {
	case 's':
		mult = 1;
		n--;
		break;
	case 'm':
		mult = MIN_S;
		n--;
		break;
	case 'h':
		mult = HOUR_S;
		n--;
		break;
	case 'd':
		mult = DAY_S;
		n--;
		break;
	case 'w':
		mult = 7 * DAY_S;
		n--;
		break;
	default:
		break;
	}
	if (laps_conf_parse_digits(s, n, &v) != 0)
		return LAPS_ERR_INVALID;
	if (v > INT64_MAX / mult)
		return LAPS_ERR_INVALID;
	*out = (int64_t)(v * mult);
	return 0;
}

void
laps_conf_format_duration(long long v, char *buf, size_t len)
{
	if (v != 0 && v % DAY_S == 0)
		snprintf(buf, len, "%lldd", v / DAY_S);
	else if (v != 0 && v % HOUR_S == 0)
		snprintf(buf, len, "%lldh", v / HOUR_S);
	else if (v != 0 && v % MIN_S == 0)
		snprintf(buf, len, "%lldm", v / MIN_S);
	else
		snprintf(buf, len, "%llds", v);
}

/* ------------------------------------------------------------------ */
/* Value checks.  Each returns NULL when v is fine, else what is wrong. */

const char *
laps_conf_check_path(const char *v)
{
	if (v[0] != '/')
		return "must be an absolute path";
	if (strlen(v) >= PATH_MAX)
		return "path too long";
	return NULL;
}

const char *
laps_conf_check_name(const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return "must consist of a-z, 0-9, '_' and '-'";
	}
	if (i > 64)
		return "too long (at most 64 characters)";
	return NULL;
}

const char *
laps_conf_check_host(const char *v)
{
	size_t i, label = 0;

	for (i = 0; v[i] != '\0'; i++) {
		char c = v[i];
		if (c == '.') {
			if (label == 0)
				return "not a valid host name (empty label)";
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return "not a valid host name (allowed: letters, digits, '-', '_', '.')";
		if (c == '-' && label == 0)
			return "not a valid host name (label starts with '-')";
		if (++label > 63)
			return "not a valid host name (label longer than 63)";
	}
	if (label == 0)
		return "not a valid host name (empty label)";
	if (i > LAPS_DEVICE_MAX)
		return "host name longer than 253 characters";
	return NULL;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * https://host[:port][/path...]; http:// only to 127.0.0.1 or [::1] (a
 * test server or a local TLS-terminating proxy).  No credentials in the
 * URL, no blanks.
 */
const char *
laps_conf_check_url(const char *v)
{
	const char *host;
	size_t hlen, i;

	if (has_prefix(v, "https://")) {
		host = v + 8;
	} else if (has_prefix(v, "http://")) {
		host = v + 7;
		if (!(has_prefix(host, "127.0.0.1") && strchr(":/", host[9]) != NULL) &&
		    !(has_prefix(host, "[::1]") && strchr(":/", host[5]) != NULL))
			return "must be an https:// URL (http:// only to 127.0.0.1 or [::1])";
	} else {
		return "must be an https:// URL";
	}
	hlen = strcspn(host, "/?#");
	if (hlen == 0 || host[0] == ':')
		return "URL without a host";
	if (memchr(host, '@', hlen) != NULL)
		return "URL must not contain credentials";
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] <= 0x20 || v[i] == 0x7f)
			return "URL must not contain blanks";
	return NULL;
}

/* Like useradd: [a-z_][a-z0-9_-]*[$]?, at most LAPS_ACCOUNT_MAX. */
const char *
laps_conf_check_account(const char *v)
{
	size_t i;

	if (!((v[0] >= 'a' && v[0] <= 'z') || v[0] == '_'))
		return "not a valid user name (must start with a-z or '_')";
	for (i = 1; v[i] != '\0'; i++) {
		char c = v[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
			continue;
		if (c == '$' && v[i + 1] == '\0')
			continue;
		return "not a valid user name (allowed: a-z 0-9 '_' '-', optional final '$')";
	}
	if (i > LAPS_ACCOUNT_MAX)
		return "user name longer than 32 characters";
	return NULL;
}

/* A word of a list: printable ASCII (no blanks by construction). */
const char *
laps_conf_check_word(const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
			return "contains a character outside printable ASCII";
	if (i > 255)
		return "longer than 255 characters";
	return NULL;
}

const char *
laps_conf_enum_name(const char *const *names, int v)
{
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (i == v)
			return names[i];
	return "unknown";
}

const char *
laps_yesno_name(enum laps_yesno v)
{
	return laps_conf_enum_name(laps_conf_yesno_names, (int)v);
}

/* ------------------------------------------------------------------ */
/* Overrides (pam_laps arguments)                                      */

int
laps_conf_set_list_csv(char **list, size_t *count, const char *s, size_t item_max,
		       laps_conf_check_fn check, const char *what)
{
	char *items[LAPS_CONFIG_MAX_LIST];
	size_t n = 0, i, len;
	const char *p = s, *comma, *why;
	int rc = LAPS_ERR_INTERNAL;

	memset(items, 0, sizeof(items));
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len > item_max) {
			rc = laps_seterr(LAPS_ERR_INVALID,
					 "%s: empty or over-long name (at most %zu characters)",
					 what, item_max);
			goto out;
		}
		if (n == LAPS_CONFIG_MAX_LIST) {
			rc = laps_seterr(LAPS_ERR_INVALID, "%s: more than %d names", what,
					 LAPS_CONFIG_MAX_LIST);
			goto out;
		}
		if ((items[n] = strndup(p, len)) == NULL) {
			rc = LAPS_ERR_NOMEM;
			goto out;
		}
		n++;
		if ((why = check(items[n - 1])) != NULL) {
			rc = laps_seterr(LAPS_ERR_INVALID, "%s: '%.32s': %s", what, items[n - 1],
					 why);
			goto out;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	for (i = 0; i < *count; i++) {
		free(list[i]);
		list[i] = NULL;
	}
	for (i = 0; i < n; i++) {
		list[i] = items[i];
		items[i] = NULL; /* success: owned by the list */
	}
	*count = n;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(items[i]);
	return rc;
}

int
laps_conf_set_string(char **fieldp, const char *v)
{
	char *copy;

	if ((copy = strdup(v)) == NULL)
		return LAPS_ERR_NOMEM;
	free(*fieldp);
	*fieldp = copy;
	return 0;
}
