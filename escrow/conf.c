/*
 * conf.c — the configuration files' parser: INI sections of typed keys,
 * driven by the tables of the components (conf.h).  It knows no section.
 *
 * The file is parsed in two passes so that a failing parse leaves the
 * caller's configuration untouched: every "key = value" line is converted
 * into a pending slot (one per key of the schema, which also detects
 * duplicates), and only when the whole file is good are the pending values
 * moved into the sections' structs.  Every error names FILE:LINE, the
 * section and the key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "escrow/conf.h"
#include "escrow/conf_value.h"
#include "escrow/err.h"
#include "escrow/fileio.h"

#define LINE_MAX_LEN 1024 /* longest accepted line, without the newline */
#define VALUE_SHOW 64	  /* at most this much of a bad value is echoed back */

/* Enums are stored through an int pointer; make sure that is their size. */
_Static_assert(sizeof(enum laps_yesno) == sizeof(int), "enum size");

/* A value parsed from the file, not yet stored. */
struct pending {
	unsigned line; /* 0: not set by this file */
	char *str;
	char *list[LAPS_CONFIG_MAX_LIST];
	size_t n;
	long long num;
};

/* Parser state for one buffer. */
struct parser {
	const struct laps_conf *c;
	const char *name; /* file name for messages */
	unsigned line;
	const char *section;		/* current section's name, or NULL before any */
	char skipped[LINE_MAX_LEN + 1]; /* the name of a skipped section (section points here) */
	int sec;			/* its index in c->sections; -1: foreign or skipped */
	size_t *base;			/* c->n + 1 offsets of each section's first slot */
	struct pending *pend;
	unsigned *sec_line; /* first line of each section in this file */
};

static bool
is_string(enum laps_conf_type t)
{
	return t == LAPS_CONF_STRING || t == LAPS_CONF_PATH || t == LAPS_CONF_NAME ||
	       t == LAPS_CONF_URL;
}

static void *
field(void *sec, const struct laps_conf_key *k)
{
	return (char *)sec + k->off;
}

static size_t *
field_count(void *sec, const struct laps_conf_key *k)
{
	return (size_t *)(void *)((char *)sec + k->count_off);
}

static void
pending_clear(struct pending *p)
{
	size_t i;

	free(p->str);
	for (i = 0; i < p->n; i++)
		free(p->list[i]);
	memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static int
perr_key(const struct parser *ps, const struct laps_conf_key *k, const char *what,
	 const char *value)
{
	if (value != NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %s: '%.*s'%s %s", ps->name,
				   ps->line, ps->section, k->key, VALUE_SHOW, value,
				   strlen(value) > VALUE_SHOW ? "..." : "", what);
	return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %s: %s", ps->name, ps->line, ps->section,
			   k->key, what);
}

/* "a, b, c" of a NULL-terminated list into buf (cut short if it does not fit). */
static void
join_names(char *buf, size_t len, const char *const *names, size_t *off)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		int n = snprintf(buf + *off, len - *off, "%s%s", *off ? ", " : "", names[i]);
		if (n < 0 || (size_t)n >= len - *off)
			return;
		*off += (size_t)n;
	}
}

static int
parse_enum(const struct parser *ps, const struct laps_conf_key *k, const char *v, struct pending *p)
{
	const char *const *names = k->type == LAPS_CONF_YESNO ? laps_conf_yesno_names : k->names;
	char allowed[256];
	size_t i, off = 0;

	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(v, names[i]) == 0) {
			p->num = (long long)i;
			return 0;
		}
	}
	allowed[0] = '\0';
	join_names(allowed, sizeof allowed, names, &off);
	return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %s: '%.*s'%s is not allowed (allowed: %s)",
			   ps->name, ps->line, ps->section, k->key, VALUE_SHOW, v,
			   strlen(v) > VALUE_SHOW ? "..." : "", allowed);
}

static int
parse_number(const struct parser *ps, const struct laps_conf_key *k, const char *v,
	     struct pending *p)
{
	char lo[32], hi[32], got[32];
	long long n;
	int64_t d;

	if (k->type == LAPS_CONF_DURATION) {
		laps_conf_format_duration(k->min, lo, sizeof lo);
		laps_conf_format_duration(k->max, hi, sizeof hi);
		if (laps_config_parse_duration(v, &d) != 0)
			return laps_seterr(LAPS_ERR_CONFIG,
					   "%s:%u: [%s] %s: '%.*s'%s is not a duration "
					   "(N, Ns, Nm, Nh, Nd or Nw; range %s..%s)",
					   ps->name, ps->line, ps->section, k->key, VALUE_SHOW, v,
					   strlen(v) > VALUE_SHOW ? "..." : "", lo, hi);
		n = d;
		laps_conf_format_duration(n, got, sizeof got);
	} else {
		snprintf(lo, sizeof lo, "%lld", k->min);
		snprintf(hi, sizeof hi, "%lld", k->max);
		if (laps_conf_parse_digits(v, strlen(v), &n) != 0)
			return laps_seterr(
			    LAPS_ERR_CONFIG,
			    "%s:%u: [%s] %s: '%.*s'%s is not a number (range %s..%s)", ps->name,
			    ps->line, ps->section, k->key, VALUE_SHOW, v,
			    strlen(v) > VALUE_SHOW ? "..." : "", lo, hi);
		snprintf(got, sizeof got, "%lld", n);
	}
	if (n < k->min || n > k->max)
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %s: %s is out of range %s..%s",
				   ps->name, ps->line, ps->section, k->key, got, lo, hi);
	p->num = n;
	return 0;
}

static int
parse_list(const struct parser *ps, const struct laps_conf_key *k, const char *v, struct pending *p)
{
	laps_conf_check_fn check = k->check != NULL ? k->check : laps_conf_check_word;
	const char *why;
	char *item;
	size_t len, i;

	for (;;) {
		v += strspn(v, " \t");
		if (*v == '\0')
			break;
		len = strcspn(v, " \t");
		if (p->n == LAPS_CONFIG_MAX_LIST)
			return perr_key(ps, k, "too many values (at most 16)", NULL);
		item = strndup(v, len);
		if (item == NULL)
			return LAPS_ERR_NOMEM;
		p->list[p->n++] = item; /* owned by p from here */
		if ((why = check(item)) != NULL)
			return perr_key(ps, k, why, item);
		for (i = 0; i + 1 < p->n; i++)
			if (strcmp(p->list[i], item) == 0)
				return perr_key(ps, k, "is listed twice", item);
		v += len;
	}
	return 0;
}

static int
parse_string(const struct parser *ps, const struct laps_conf_key *k, const char *v,
	     struct pending *p)
{
	const char *why = NULL;
	char *s;

	switch (k->type) {
	case LAPS_CONF_PATH:
		why = laps_conf_check_path(v);
		break;
	case LAPS_CONF_NAME:
		why = laps_conf_check_name(v);
		break;
	case LAPS_CONF_URL:
		why = laps_conf_check_url(v);
		break;
	default:
		break;
	}
	if (why == NULL && k->check != NULL)
		why = k->check(v);
	if (why != NULL)
		return perr_key(ps, k, why, v);
	if ((s = strdup(v)) == NULL)
		return LAPS_ERR_NOMEM;
	if (k->flags & LAPS_CONF_LOWER)
		laps_hostname_lower(s);
	p->str = s;
	return 0;
}

static const struct laps_conf_key *
find_key(const struct parser *ps, const char *key, size_t *idx)
{
	const struct laps_conf_section *s = ps->c->sections[ps->sec];
	size_t i;

	for (i = 0; i < s->n_keys; i++) {
		if (strcmp(s->keys[i].key, key) == 0) {
			*idx = ps->base[ps->sec] + i;
			return &s->keys[i];
		}
	}
	return NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static const char *
find_foreign(const struct laps_conf_schema *schema, const char *name)
{
	size_t i;

	for (i = 0; schema->foreign != NULL && schema->foreign[i] != NULL; i++)
		if (strcmp(schema->foreign[i], name) == 0)
			return schema->foreign[i];
	return NULL;
}

static int
unknown_section(const struct parser *ps, const char *name)
{
	char known[512];
	size_t i, off = 0;

	known[0] = '\0';
	for (i = 0; i < ps->c->n; i++) {
		const char *one[] = {ps->c->sections[i]->name, NULL};
		join_names(known, sizeof known, one, &off);
	}
	if (ps->c->schema->foreign != NULL)
		join_names(known, sizeof known, ps->c->schema->foreign, &off);
	return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%.*s]: unknown section (known: %s)", ps->name,
			   ps->line, VALUE_SHOW, name, known);
}

static int
parse_section(struct parser *ps, char *line)
{
	char *end = line + strlen(line) - 1; /* line is trimmed and starts with '[' */
	const char *foreign;
	char *name;
	size_t i;

	if (*end != ']')
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: %.*s: section header without ']'",
				   ps->name, ps->line, VALUE_SHOW, line);
	*end = '\0';
	name = trim(line + 1);
	for (i = 0; i < ps->c->n; i++) {
		if (strcmp(name, ps->c->sections[i]->name) == 0) {
			ps->section = ps->c->sections[i]->name;
			ps->sec = (int)i;
			if (ps->sec_line[i] == 0)
				ps->sec_line[i] = ps->line;
			return 0;
		}
	}
	if ((foreign = find_foreign(ps->c->schema, name)) != NULL) {
		ps->section = foreign;
		ps->sec = -1;
		return 0;
	}
	if ((ps->c->schema->flags & LAPS_CONF_SKIP_UNKNOWN) && name[0] != '\0' &&
	    laps_conf_check_word(name) == NULL) {
		(void)snprintf(ps->skipped, sizeof ps->skipped, "%s", name);
		ps->section = ps->skipped;
		ps->sec = -1;
		return 0;
	}
	return unknown_section(ps, name);
}

static int
parse_value(struct parser *ps, const struct laps_conf_key *k, struct pending *p, const char *value)
{
	if (p->line != 0)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "%s:%u: [%s] %s: duplicate key (first set on line %u)", ps->name,
				   ps->line, ps->section, k->key, p->line);
	if (value[0] == '\0' && !(k->flags & LAPS_CONF_EMPTY_OK))
		return perr_key(ps, k, "empty value", NULL);

	p->line = ps->line;
	switch (k->type) {
	case LAPS_CONF_LIST:
		return parse_list(ps, k, value, p);
	case LAPS_CONF_ENUM:
	case LAPS_CONF_YESNO:
		return parse_enum(ps, k, value, p);
	case LAPS_CONF_UINT:
	case LAPS_CONF_DURATION:
		return parse_number(ps, k, value, p);
	default:
		return parse_string(ps, k, value, p);
	}
}

static int
parse_line(struct parser *ps, char *raw)
{
	const struct laps_conf_key *k;
	char *line, *eq, *key, *value;
	size_t idx;

	line = trim(raw);
	if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
		return 0;
	if (line[0] == '[')
		return parse_section(ps, line);

	if ((eq = strchr(line, '=')) == NULL) {
		if (ps->section == NULL)
			return laps_seterr(LAPS_ERR_CONFIG,
					   "%s:%u: %.*s: missing '=' (expected key = value)",
					   ps->name, ps->line, VALUE_SHOW, line);
		return laps_seterr(LAPS_ERR_CONFIG,
				   "%s:%u: [%s] %.*s: missing '=' (expected key = value)", ps->name,
				   ps->line, ps->section, VALUE_SHOW, line);
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (key[0] == '\0')
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] missing key before '='", ps->name,
				   ps->line, ps->section ? ps->section : "");
	if (ps->section == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: %.*s: key before any [section]",
				   ps->name, ps->line, VALUE_SHOW, key);
	if (ps->sec < 0)
		return 0; /* another program's section: its own parser checks it */
	if ((k = find_key(ps, key, &idx)) == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %.*s: unknown key", ps->name,
				   ps->line, ps->section, VALUE_SHOW, key);
	return parse_value(ps, k, &ps->pend[idx], value);
}

/* Move one pending value into the section's struct.  Cannot fail. */
static void
apply(void *sec, const struct laps_conf_key *k, struct pending *p)
{
	char **sp;
	size_t *np, i;

	if (k->type == LAPS_CONF_LIST) {
		sp = field(sec, k);
		np = field_count(sec, k);
		for (i = 0; i < *np; i++) {
			free(sp[i]);
			sp[i] = NULL;
		}
		for (i = 0; i < p->n; i++) {
			sp[i] = p->list[i];
			p->list[i] = NULL;
		}
		*np = p->n;
		p->n = 0;
	} else if (is_string(k->type)) {
		sp = field(sec, k);
		free(*sp);
		*sp = p->str;
		p->str = NULL;
	} else if (k->type == LAPS_CONF_ENUM || k->type == LAPS_CONF_YESNO) {
		*(int *)field(sec, k) = (int)p->num;
	} else if (k->type == LAPS_CONF_UINT) {
		*(unsigned *)field(sec, k) = (unsigned)p->num;
	} else {
		*(int64_t *)field(sec, k) = (int64_t)p->num;
	}
}

/* Check one line's bytes: no NUL, no control character but tab. */
static int
check_line_bytes(const char *name, unsigned line, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\0')
			return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: NUL byte in line", name, line);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return laps_seterr(LAPS_ERR_CONFIG,
					   "%s:%u: control character 0x%02x in line", name, line,
					   c);
	}
	return 0;
}

static int
parse_lines(struct parser *ps, const char *buf, size_t len)
{
	char line[LINE_MAX_LEN + 1];
	const char *p = buf, *end = buf + len, *nl;
	size_t n;
	int rc;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark written by some editors */
	while (p < end) {
		ps->line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > LINE_MAX_LEN)
			return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: line longer than %u characters",
					   ps->name, ps->line, (unsigned)LINE_MAX_LEN);
		if ((rc = check_line_bytes(ps->name, ps->line, p, n)) != 0)
			return rc;
		memcpy(line, p, n);
		line[n] = '\0';
		if ((rc = parse_line(ps, line)) != 0)
			return rc;
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

int
laps_conf_parse(struct laps_conf *c, const char *name, const char *buf, size_t len)
{
	struct parser ps;
	struct pending *pend = NULL;
	size_t base[LAPS_CONF_MAX_SECTIONS + 1];
	unsigned sec_line[LAPS_CONF_MAX_SECTIONS];
	char *path = NULL;
	size_t i, j, n_keys;
	int rc = LAPS_ERR_INTERNAL;

	if (c == NULL || c->schema == NULL || (buf == NULL && len != 0))
		return laps_seterr(LAPS_ERR_INVALID, "laps_conf_parse: no config or buffer");
	if (name == NULL)
		name = "(config)";
	if (len > LAPS_CONFIG_MAX_SIZE)
		return laps_seterr(LAPS_ERR_CONFIG, "%s: file is larger than %u bytes", name,
				   (unsigned)LAPS_CONFIG_MAX_SIZE);

	for (i = 0, n_keys = 0; i < c->n; i++) {
		base[i] = n_keys;
		n_keys += c->sections[i]->n_keys;
	}
	base[c->n] = n_keys;
	if ((pend = calloc(n_keys + 1, sizeof *pend)) == NULL || (path = strdup(name)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	memset(&ps, 0, sizeof ps);
	memset(sec_line, 0, sizeof sec_line);
	ps.c = c;
	ps.name = name;
	ps.sec = -1;
	ps.base = base;
	ps.pend = pend;
	ps.sec_line = sec_line;
	if ((rc = parse_lines(&ps, buf, len)) != 0)
		goto out;

	/* The whole file is good: store it. */
	for (i = 0; i < c->n; i++) {
		for (j = 0; j < c->sections[i]->n_keys; j++)
			if (pend[base[i] + j].line != 0)
				apply(c->data[i], &c->sections[i]->keys[j], &pend[base[i] + j]);
		if (sec_line[i] != 0 && c->line[i] == 0)
			c->line[i] = sec_line[i];
	}
	free(c->path);
	c->path = path;
	path = NULL;
	rc = 0; /* success */
out:
	if (pend != NULL) {
		for (i = 0; i < n_keys; i++)
			pending_clear(&pend[i]);
		free(pend);
	}
	free(path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

/*
 * Read path refusing anything but a regular root-owned file that is not
 * group/world-writable, whoever we run as (LAPS_CONFIG_CHECK_OWNER).  The
 * checks are made on the opened descriptor, so nothing can be swapped in
 * between.
 */
static int
read_root_owned(const char *path, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, rc = LAPS_ERR_INTERNAL;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return laps_seterr(LAPS_ERR_NOTFOUND, "%s: no such file", path);
		if (errno == ELOOP)
			return laps_seterr(LAPS_ERR_PERM, "%s: is a symbolic link", path);
		if (errno == EACCES)
			return laps_seterr(LAPS_ERR_PERM, "%s: %s", path, strerror(errno));
		return laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = laps_seterr(LAPS_ERR_PERM, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != 0) {
		rc = laps_seterr(LAPS_ERR_PERM, "%s: not owned by root (uid %u)", path,
				 (unsigned)st.st_uid);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		rc = laps_seterr(LAPS_ERR_PERM, "%s: group or world writable (mode %04o)", path,
				 (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((buf = malloc(LAPS_CONFIG_MAX_SIZE + 2)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	/* Read one byte past the cap to notice a file that grew. */
	while (len < LAPS_CONFIG_MAX_SIZE + 1) {
		r = read(fd, buf + len, LAPS_CONFIG_MAX_SIZE + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > LAPS_CONFIG_MAX_SIZE) {
		rc = laps_seterr(LAPS_ERR_TOOBIG, "%s: larger than %u bytes", path,
				 (unsigned)LAPS_CONFIG_MAX_SIZE);
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0; /* success */
out:
	free(buf);
	close(fd);
	return rc;
}

int
laps_conf_load(struct laps_conf *c, const char *path, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	unsigned fflags = 0;
	bool own_reader;
	int rc;

	if (c == NULL || path == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "laps_conf_load: no config or path");
	/* fileio applies the root-owner check only when euid is 0; with
	 * CHECK_OWNER it must apply whoever we are, so read it ourselves. */
	own_reader = (flags & LAPS_CONFIG_CHECK_OWNER) && !(flags & LAPS_CONFIG_NO_OWNER);
	if (own_reader) {
		rc = read_root_owned(path, &buf, &len);
	} else {
		if (!(flags & LAPS_CONFIG_NO_OWNER))
			fflags = LAPS_FILE_OWNER_ROOT;
		rc = laps_file_read(path, LAPS_CONFIG_MAX_SIZE, fflags, &buf, &len);
	}
	if (rc == LAPS_ERR_TOOBIG)
		return laps_seterr(LAPS_ERR_CONFIG, "%s: file is larger than %u bytes", path,
				   (unsigned)LAPS_CONFIG_MAX_SIZE);
	if (rc != 0)
		return rc;
	rc = laps_conf_parse(c, path, buf, len);
	if (own_reader)
		free(buf);
	else
		laps_file_free(buf, len, fflags);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Sections: init, free, access                                        */

static void
section_free(const struct laps_conf_section *s, void *sec)
{
	size_t i, j;
	char **sp;

	if (sec == NULL)
		return;
	for (i = 0; i < s->n_keys; i++) {
		const struct laps_conf_key *k = &s->keys[i];
		sp = field(sec, k);
		if (k->type == LAPS_CONF_LIST) {
			for (j = 0; j < LAPS_CONFIG_MAX_LIST; j++)
				free(sp[j]);
		} else if (is_string(k->type)) {
			free(*sp);
		}
	}
	free(sec);
}

void
laps_conf_free(struct laps_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		section_free(c->sections[i], c->data[i]);
	free(c->path);
	memset(c, 0, sizeof *c);
}

static int
add_section(struct laps_conf *c, const struct laps_conf_section *s)
{
	size_t i;
	int rc;

	if (c->n == LAPS_CONF_MAX_SECTIONS)
		return laps_seterr(LAPS_ERR_INVALID, "laps_conf_init: more than %d sections",
				   LAPS_CONF_MAX_SECTIONS);
	for (i = 0; i < c->n; i++)
		if (strcmp(c->sections[i]->name, s->name) == 0)
			return laps_seterr(LAPS_ERR_INVALID, "laps_conf_init: [%s] twice", s->name);
	if ((c->data[c->n] = calloc(1, s->size ? s->size : 1)) == NULL)
		return LAPS_ERR_NOMEM;
	c->sections[c->n++] = s;
	if (s->defaults != NULL && (rc = s->defaults(c->data[c->n - 1])) != 0)
		return rc;
	return 0;
}

int
laps_conf_init(struct laps_conf *c, const struct laps_conf_schema *schema)
{
	size_t l, i;
	int rc;

	if (c == NULL || schema == NULL)
		return LAPS_ERR_INVALID;
	memset(c, 0, sizeof *c);
	c->schema = schema;
	for (l = 0; l < sizeof schema->lists / sizeof schema->lists[0]; l++) {
		for (i = 0; schema->lists[l] != NULL && schema->lists[l][i] != NULL; i++) {
			if ((rc = add_section(c, schema->lists[l][i])) != 0) {
				laps_conf_free(c);
				return rc;
			}
		}
	}
	return 0;
}

void *
laps_conf_get(const struct laps_conf *c, const struct laps_conf_section *s)
{
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->n; i++)
		if (c->sections[i] == s)
			return c->data[i];
	return NULL;
}

bool
laps_conf_present(const struct laps_conf *c, const struct laps_conf_section *s)
{
	size_t i;

	for (i = 0; c != NULL && i < c->n; i++)
		if (c->sections[i] == s)
			return c->line[i] != 0;
	return false;
}

const char *
laps_conf_name(const struct laps_conf *c)
{
	return c != NULL && c->path != NULL ? c->path : "(defaults)";
}

int
laps_conf_err(const struct laps_conf *c, const char *section, const char *key, const char *what)
{
	return laps_seterr(LAPS_ERR_CONFIG, "%s: [%s] %s: %s", laps_conf_name(c), section, key,
			   what);
}
