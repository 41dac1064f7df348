/*
 * conf.h — the configuration files' parser: INI sections of typed keys,
 * driven by tables that the components hand it.
 *
 * This file knows no section and no key.  Each component declares its
 * sections beside its code (a struct laps_conf_section: the section's name,
 * a table of keys with their types and ranges, the size of the struct the
 * values land in and a function that sets its defaults) and validates them
 * there; docs/HACKING.md says how to add a key.  A program lists the
 * sections its files may hold in a struct laps_conf_schema, loads a file
 * into a struct laps_conf and reads each section's struct back with
 * laps_conf_get() (every component has a typed accessor for its own).
 *
 * Unknown sections and keys are errors naming file:line and the key, as are
 * duplicate keys and values of the wrong type or out of range.  When euid
 * is 0 the file must be owned by root and not group/world-writable.
 */
#ifndef LAPS_CONF_H
#define LAPS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAPS_CONFIG_MAX_SIZE (64 * 1024) /* larger files are refused */
#define LAPS_CONFIG_MAX_LIST 16		 /* values of one list key */
#define LAPS_CONF_MAX_SECTIONS 32	 /* sections of one schema */
#define LAPS_ACCOUNT_MAX 32              /* user name length (useradd's limit) */
#define LAPS_DEVICE_MAX 253              /* DNS name length */

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define LAPS_CONFIG_DEFAULT SYSCONFDIR "/laps/laps.conf"
#define LAPS_STATE_DIR_DEFAULT LOCALSTATEDIR "/lib/laps"

/* The value of a LAPS_CONF_YESNO key. */
enum laps_yesno { LAPS_NO = 0, LAPS_YES };

/* What a value is.  Strings and list items may be refined by a check. */
enum laps_conf_type {
	LAPS_CONF_STRING = 0, /* char *: non-empty text */
	LAPS_CONF_PATH,	      /* char *: an absolute path */
	LAPS_CONF_NAME,	      /* char *: [a-z0-9_-], at most 64 characters */
	LAPS_CONF_URL,	      /* char *: https:// (http:// only to a loopback address) */
	LAPS_CONF_ENUM,	      /* an enum (int-sized): the index of the value in names[] */
	LAPS_CONF_YESNO,      /* enum laps_yesno */
	LAPS_CONF_UINT,	      /* unsigned in [min, max] */
	LAPS_CONF_DURATION,   /* int64_t seconds in [min, max]: N, Ns, Nm, Nh, Nd, Nw */
	LAPS_CONF_LIST,	      /* char *[LAPS_CONFIG_MAX_LIST] + size_t count: blank-separated
			       * words, each checked (default laps_conf_check_word), no
			       * value twice */
};

/* Key flags */
#define LAPS_CONF_EMPTY_OK 0x1 /* a string that may be empty ("key =") */
#define LAPS_CONF_LOWER 0x2    /* a string stored lower-cased (host names) */

/*
 * A check of a string value or of one list item: NULL when v is fine, else
 * what is wrong with it ("must be an absolute path"); the parser adds
 * file:line, section, key and the value.
 */
typedef const char *(*laps_conf_check_fn)(const char *v);

struct laps_conf_key {
	const char *key;
	enum laps_conf_type type;
	size_t off;		  /* the field in the section's struct */
	size_t count_off;	  /* LAPS_CONF_LIST: its size_t count */
	long long min, max;	  /* LAPS_CONF_UINT, LAPS_CONF_DURATION */
	const char *const *names; /* LAPS_CONF_ENUM: NULL-terminated, index = value */
	laps_conf_check_fn check; /* strings and list items: an extra check, or NULL */
	unsigned flags;		  /* LAPS_CONF_EMPTY_OK, LAPS_CONF_LOWER */
};

/* Table helpers: LAPS_CONF_KEY_STR(KEY, LAPS_CONF_PATH, struct S, FIELD, NULL) ... */
#define LAPS_CONF_KEY_STR(key, type, st, field, check)                                             \
	{                                                                                          \
		key, type, offsetof(st, field), 0, 0, 0, NULL, check, 0                            \
	}
#define LAPS_CONF_KEY_STRF(key, type, st, field, check, flags)                                     \
	{                                                                                          \
		key, type, offsetof(st, field), 0, 0, 0, NULL, check, flags                        \
	}
#define LAPS_CONF_KEY_LIST(key, st, field, count, check)                                           \
	{                                                                                          \
		key, LAPS_CONF_LIST, offsetof(st, field), offsetof(st, count), 0, 0, NULL, check,  \
		    0                                                                              \
	}
#define LAPS_CONF_KEY_ENUM(key, st, field, names)                                                  \
	{                                                                                          \
		key, LAPS_CONF_ENUM, offsetof(st, field), 0, 0, 0, names, NULL, 0                  \
	}
#define LAPS_CONF_KEY_YESNO(key, st, field)                                                        \
	{                                                                                          \
		key, LAPS_CONF_YESNO, offsetof(st, field), 0, 0, 1, NULL, NULL, 0                  \
	}
#define LAPS_CONF_KEY_UINT(key, st, field, lo, hi)                                                 \
	{                                                                                          \
		key, LAPS_CONF_UINT, offsetof(st, field), 0, lo, hi, NULL, NULL, 0                 \
	}
#define LAPS_CONF_KEY_DURATION(key, st, field, lo, hi)                                             \
	{                                                                                          \
		key, LAPS_CONF_DURATION, offsetof(st, field), 0, lo, hi, NULL, NULL, 0             \
	}

/* One section: its keys and the struct they fill. */
struct laps_conf_section {
	const char *name; /* NAME of the [NAME] header */
	const struct laps_conf_key *keys;
	size_t n_keys;
	size_t size; /* sizeof the section's struct */
	/* Optional: set the defaults in a zeroed struct.  0 or LAPS_ERR_NOMEM
	 * (what it allocated is freed by the parser: only strings and lists
	 * named by keys may be allocated). */
	int (*defaults)(void *sec);
};

/* Schema flags */
#define LAPS_CONF_SKIP_UNKNOWN                                                                     \
	0x1 /* a section of no table is skipped, not refused                                       \
	     * (pam_laps: laps.conf holds the agent's and the                                      \
	     * backends' sections, which the agent checks) */

/* The sections a program's files may hold. */
struct laps_conf_schema {
	/* up to 4 NULL-terminated lists (a program's own, the escrow core's,
	 * the backends' ...), concatenated; at most LAPS_CONF_MAX_SECTIONS */
	const struct laps_conf_section *const *lists[4];
	/* NULL-terminated names of sections that other programs read from the
	 * same file: their lines must have the key = value shape but are not
	 * interpreted here (e.g. [laps-get] in laps.conf for the agent).  May
	 * be NULL. */
	const char *const *foreign;
	unsigned flags; /* LAPS_CONF_SKIP_UNKNOWN */
};

/* A loaded configuration: one struct per section of its schema. */
struct laps_conf {
	char *path; /* the file it was loaded from (for messages); NULL: defaults only */
	const struct laps_conf_schema *schema;
	size_t n;
	const struct laps_conf_section *sections[LAPS_CONF_MAX_SECTIONS];
	void *data[LAPS_CONF_MAX_SECTIONS];
	unsigned line[LAPS_CONF_MAX_SECTIONS]; /* first line of each section; 0 = absent */
};

/* laps_conf_load flags */
#define LAPS_CONFIG_CHECK_OWNER 0x1 /* apply the root-owner/mode check even if euid != 0 */
#define LAPS_CONFIG_NO_OWNER 0x2    /* skip owner/mode checks (laps-get user files) */

/*
 * Make c hold the defaults of every section of schema (which must outlive
 * c).  0, LAPS_ERR_NOMEM, or LAPS_ERR_INVALID (too many sections, a name
 * twice).  On failure c needs no laps_conf_free.
 */
int laps_conf_init(struct laps_conf *c, const struct laps_conf_schema *schema)
    __attribute__((warn_unused_result));

/*
 * Parse path into c (laps_conf_init'ed; values in the file override).  On
 * error returns LAPS_ERR_CONFIG (or _PERM, _IO, _NOTFOUND) with a detail
 * "FILE:LINE: [section] key: what", and c is unchanged.
 */
int laps_conf_load(struct laps_conf *c, const char *path, unsigned flags)
    __attribute__((warn_unused_result));

/* Same, from a buffer; name is used in messages. */
int laps_conf_parse(struct laps_conf *c, const char *name, const char *buf, size_t len)
    __attribute__((warn_unused_result));

/* Free every section; c can be init'ed again. */
void laps_conf_free(struct laps_conf *c);

/*
 * The struct of section s, or NULL when s is not in c's schema.  Every
 * component has a typed accessor for its sections (laps_ldap_conf() ...).
 */
void *laps_conf_get(const struct laps_conf *c, const struct laps_conf_section *s);

/* Whether the loaded file had a [s] header. */
bool laps_conf_present(const struct laps_conf *c, const struct laps_conf_section *s);

/* c's file name for messages: the path, or "(defaults)". */
const char *laps_conf_name(const struct laps_conf *c);

/*
 * A cross-field error for validators: LAPS_ERR_CONFIG with
 * "FILE: [section] key: what".  Returns LAPS_ERR_CONFIG.
 */
int laps_conf_err(const struct laps_conf *c, const char *section, const char *key,
		  const char *what);

/*
 * Parse a duration: plain seconds or a number with s/m/h/d/w suffix
 * ("90s", "15m", "12h", "30d").  0 or LAPS_ERR_INVALID.
 */
int laps_config_parse_duration(const char *s, int64_t *out) __attribute__((warn_unused_result));

/* "30d", "1h", "90s": the largest unit that divides v exactly. */
void laps_conf_format_duration(long long v, char *buf, size_t len);

/* Name of an enum value from a NULL-terminated table, "unknown" when out of range. */
const char *laps_conf_enum_name(const char *const *names, int v);

/* The value checks the types use, for components' own checks and overrides:
 * each returns NULL when v is fine, else what is wrong. */
const char *laps_conf_check_path(const char *v);    /* absolute, < PATH_MAX */
const char *laps_conf_check_name(const char *v);    /* [a-z0-9_-], <= 64 */
const char *laps_conf_check_url(const char *v);	    /* https:// (http:// to loopback) */
const char *laps_conf_check_word(const char *v);    /* printable ASCII, <= 255 */
const char *laps_conf_check_account(const char *v); /* a user or group name as useradd takes */
const char *laps_conf_check_host(const char *v);    /* a DNS-style host name */

/* The names of enum laps_yesno, for messages. */
const char *laps_yesno_name(enum laps_yesno v);

/*
 * Replace a list value (a LAPS_CONF_LIST field and its count) with the
 * comma-separated items of s, each checked by check (not empty, at most
 * LAPS_CONFIG_MAX_LIST, none twice).  what names the setting in messages
 * ("accounts=").  On error the list is unchanged; 0, LAPS_ERR_INVALID (with
 * detail) or LAPS_ERR_NOMEM.  Used for pam_laps' arguments.
 */
int laps_conf_set_list_csv(char **list, size_t *count, const char *s, size_t item_max,
			   laps_conf_check_fn check, const char *what)
    __attribute__((warn_unused_result));

/* Replace a string value with a copy of v.  0 or LAPS_ERR_NOMEM. */
int laps_conf_set_string(char **field, const char *v) __attribute__((warn_unused_result));

#endif
