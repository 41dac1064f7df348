/*
 * test_conf.c — the generic configuration parser (escrow/conf.c), driven by
 * a test-only table that names no section of any component: every key
 * type and flag, foreign and skipped sections, every error with its
 * FILE:LINE detail, durations, ranges, size caps, owner/mode checks, init,
 * free and the helpers components use.
 *
 * The components' own tables (laps.conf, laps-get.conf, laps-escrowd.conf)
 * are tested by test_conf_sections.c.  This program links libescrow only:
 * the parser needs no component to run.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "tests/unit/conftest.h"
#include "tests/unit/testutil.h"

#define NAME LAPS_CONFTEST_NAME

/* ------------------------------------------------------------------ */
/* The test table: [alpha] has a key of every type and flag, [beta] is a
 * second section from a second list, [gamma] is another program's. */

enum shade { SHADE_LIGHT = 0, SHADE_DARK, SHADE_NONE };
_Static_assert(sizeof(enum shade) == sizeof(int), "enum size");
static const char *const shade_names[] = {"light", "dark", "none", NULL};

#define HOUR_S 3600LL
#define DAY_S 86400LL

struct t_alpha {
	char *str;			   /* STRING */
	char *path;			   /* PATH */
	char *name;			   /* NAME */
	char *url;			   /* URL */
	enum shade shade;		   /* ENUM (default dark) */
	enum laps_yesno flag;		   /* YESNO */
	unsigned count;			   /* UINT 8..128 (default 20) */
	unsigned cost;			   /* UINT 0..999999999 */
	int64_t age;			   /* DURATION 1h..3650d (default 30d) */
	int64_t delay;			   /* DURATION 0..30d */
	int64_t timeout;		   /* DURATION 1..300 (default 10) */
	char *words[LAPS_CONFIG_MAX_LIST]; /* LIST, default item check */
	size_t n_words;
	char *users[LAPS_CONFIG_MAX_LIST]; /* LIST of user names (default: admin) */
	size_t n_users;
	char *files[LAPS_CONFIG_MAX_LIST]; /* LIST of paths */
	size_t n_files;
	char *sep;  /* STRING, EMPTY_OK, at most 4 characters (default "-") */
	char *host; /* STRING, LOWER, a host name */
};

struct t_beta {
	unsigned level; /* UINT 0..100 (default 10) */
	char *note;	/* STRING */
};

static const char *
check_sep(const char *v)
{
	return strlen(v) > 4 ? "at most 4 characters" : NULL;
}

/* clang-format off */
#define S struct t_alpha
static const struct laps_conf_key alpha_keys[] = {
    LAPS_CONF_KEY_STR("str", LAPS_CONF_STRING, S, str, NULL),
    LAPS_CONF_KEY_STR("path", LAPS_CONF_PATH, S, path, NULL),
    LAPS_CONF_KEY_STR("name", LAPS_CONF_NAME, S, name, NULL),
    LAPS_CONF_KEY_STR("url", LAPS_CONF_URL, S, url, NULL),
    LAPS_CONF_KEY_ENUM("shade", S, shade, shade_names),
    LAPS_CONF_KEY_YESNO("flag", S, flag),
    LAPS_CONF_KEY_UINT("count", S, count, 8, 128),
    LAPS_CONF_KEY_UINT("cost", S, cost, 0, 999999999),
    LAPS_CONF_KEY_DURATION("age", S, age, HOUR_S, 3650 * DAY_S),
    LAPS_CONF_KEY_DURATION("delay", S, delay, 0, 30 * DAY_S),
    LAPS_CONF_KEY_DURATION("timeout", S, timeout, 1, 300),
    LAPS_CONF_KEY_LIST("words", S, words, n_words, NULL),
    LAPS_CONF_KEY_LIST("users", S, users, n_users, laps_conf_check_account),
    LAPS_CONF_KEY_LIST("files", S, files, n_files, laps_conf_check_path),
    LAPS_CONF_KEY_STRF("sep", LAPS_CONF_STRING, S, sep, check_sep, LAPS_CONF_EMPTY_OK),
    LAPS_CONF_KEY_STRF("host", LAPS_CONF_STRING, S, host, laps_conf_check_host,
		       LAPS_CONF_LOWER),
};
#undef S
#define S struct t_beta
static const struct laps_conf_key beta_keys[] = {
    LAPS_CONF_KEY_UINT("level", S, level, 0, 100),
    LAPS_CONF_KEY_STR("note", LAPS_CONF_STRING, S, note, NULL),
};
#undef S
/* clang-format on */

static int
alpha_defaults(void *p)
{
	struct t_alpha *a = p;

	a->shade = SHADE_DARK;
	a->count = 20;
	a->age = 30 * DAY_S;
	a->timeout = 10;
	if ((a->users[0] = strdup("admin")) == NULL)
		return LAPS_ERR_NOMEM;
	a->n_users = 1;
	if ((a->sep = strdup("-")) == NULL)
		return LAPS_ERR_NOMEM;
	return 0;
}

static int
beta_defaults(void *p)
{
	((struct t_beta *)p)->level = 10;
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const struct laps_conf_section alpha_section = {"alpha", alpha_keys, N(alpha_keys),
						       sizeof(struct t_alpha), alpha_defaults};
static const struct laps_conf_section beta_section = {"beta", beta_keys, N(beta_keys),
						      sizeof(struct t_beta), beta_defaults};

static const struct laps_conf_section *const alpha_list[] = {&alpha_section, NULL};
static const struct laps_conf_section *const beta_list[] = {&beta_section, NULL};
static const char *const foreign[] = {"gamma", NULL};

/* [alpha] and [beta] from two lists; [gamma] belongs to another program. */
static const struct laps_conf_schema schema = {{alpha_list, beta_list}, foreign, 0};
/* [alpha] only; anything else is skipped (as pam_laps reads laps.conf). */
static const struct laps_conf_schema skip_schema = {{alpha_list}, NULL, LAPS_CONF_SKIP_UNKNOWN};

static struct laps_conf cfg;

static struct t_alpha *
alpha(const struct laps_conf *c)
{
	return laps_conf_get(c, &alpha_section);
}

static struct t_beta *
beta(const struct laps_conf *c)
{
	return laps_conf_get(c, &beta_section);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static int
parse(const char *text)
{
	return laps_conf_parse(&cfg, NAME, text, strlen(text));
}

#define detail_has conftest_detail_has
#define EXPECT_ERR(text, n1, n2, n3) conftest_err(__LINE__, &schema, text, strlen(text), n1, n2, n3)
#define EXPECT_ERRN(text, len, n1, n2, n3) conftest_err(__LINE__, &schema, text, len, n1, n2, n3)
#define EXPECT_ERR_S(sch, text, n1, n2, n3)                                                        \
	conftest_err(__LINE__, sch, text, strlen(text), n1, n2, n3)
#define EXPECT_OK(text) conftest_ok(__LINE__, &schema, text)
#define EXPECT_OK_S(sch, text) conftest_ok(__LINE__, sch, text)

static int
setup(void)
{
	return laps_conf_init(&cfg, &schema) == 0 ? 0 : -1;
}

static int
teardown(void)
{
	laps_conf_free(&cfg);
	return 0;
}

/* Each test starts with fresh defaults. */
static void
reset(void)
{
	laps_conf_free(&cfg);
	CU_ASSERT_FATAL(laps_conf_init(&cfg, &schema) == 0);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static void
test_defaults(void)
{
	reset();
	CU_ASSERT_PTR_NULL(cfg.path);
	CU_ASSERT_PTR_EQUAL(cfg.schema, &schema);
	CU_ASSERT_EQUAL(cfg.n, 2);
	CU_ASSERT_STRING_EQUAL(laps_conf_name(&cfg), "(defaults)");
	/* Each section's defaults function ran on a zeroed struct. */
	CU_ASSERT_PTR_NULL(alpha(&cfg)->str);
	CU_ASSERT_PTR_NULL(alpha(&cfg)->path);
	CU_ASSERT_EQUAL(alpha(&cfg)->shade, SHADE_DARK);
	CU_ASSERT_EQUAL(alpha(&cfg)->flag, LAPS_NO);
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 20);
	CU_ASSERT_EQUAL(alpha(&cfg)->age, 30 * DAY_S);
	CU_ASSERT_EQUAL(alpha(&cfg)->delay, 0);
	CU_ASSERT_EQUAL(alpha(&cfg)->n_users, 1);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->users[0], "admin");
	CU_ASSERT_PTR_NULL(alpha(&cfg)->users[1]);
	CU_ASSERT_EQUAL(alpha(&cfg)->n_words, 0);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->sep, "-");
	CU_ASSERT_EQUAL(beta(&cfg)->level, 10);
	CU_ASSERT_FALSE(laps_conf_present(&cfg, &alpha_section));
	CU_ASSERT_FALSE(laps_conf_present(&cfg, &beta_section));
	/* An empty file changes nothing but the path. */
	CU_ASSERT_EQUAL(laps_conf_parse(&cfg, NAME, "", 0), 0);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
	CU_ASSERT_STRING_EQUAL(laps_conf_name(&cfg), NAME);
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 20);
	CU_ASSERT_FALSE(laps_conf_present(&cfg, &alpha_section));
}

static const char every_key[] = "# every key of the test table\n"
				"; both comment styles\n"
				"\n"
				"[alpha]\n"
				"str = some text, with blanks  and = signs\n"
				"path = /etc/laps/x.pub\n"
				"name = pkcs11_v-2\n"
				"url = https://escrow.example.org:8443/v1\n"
				"shade = none\n"
				"flag = yes\n"
				"count = 32\n"
				"cost = 5000\n"
				"age = 2w\n"
				"delay = 8h\n"
				"timeout = 2m\n"
				"words = laps.write\tlaps.read  x\n"
				"users = root_admin svc-x backup$\n"
				"files = /etc/laps/a.pub /etc/laps/b.pub\n"
				"sep = ::\n"
				"host = WS-42.Example.ORG\n"
				"  [ beta ]  \n"
				"level=0\n"
				"note = n\n"
				"[gamma]\n"
				"anything = is not interpreted\n"
				"count = 7\n";

static void
test_every_key(void)
{
	struct t_alpha *a;

	reset();
	CU_ASSERT_EQUAL_FATAL(parse(every_key), 0);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
	a = alpha(&cfg);
	CU_ASSERT_STRING_EQUAL(a->str, "some text, with blanks  and = signs");
	CU_ASSERT_STRING_EQUAL(a->path, "/etc/laps/x.pub");
	CU_ASSERT_STRING_EQUAL(a->name, "pkcs11_v-2");
	CU_ASSERT_STRING_EQUAL(a->url, "https://escrow.example.org:8443/v1");
	CU_ASSERT_EQUAL(a->shade, SHADE_NONE);
	CU_ASSERT_EQUAL(a->flag, LAPS_YES);
	CU_ASSERT_EQUAL(a->count, 32);
	CU_ASSERT_EQUAL(a->cost, 5000);
	CU_ASSERT_EQUAL(a->age, 14 * DAY_S);
	CU_ASSERT_EQUAL(a->delay, 8 * HOUR_S);
	CU_ASSERT_EQUAL(a->timeout, 120);
	CU_ASSERT_EQUAL_FATAL(a->n_words, 3);
	CU_ASSERT_STRING_EQUAL(a->words[0], "laps.write");
	CU_ASSERT_STRING_EQUAL(a->words[1], "laps.read");
	CU_ASSERT_STRING_EQUAL(a->words[2], "x");
	CU_ASSERT_EQUAL_FATAL(a->n_users, 3);
	CU_ASSERT_STRING_EQUAL(a->users[0], "root_admin");
	CU_ASSERT_STRING_EQUAL(a->users[1], "svc-x");
	CU_ASSERT_STRING_EQUAL(a->users[2], "backup$");
	CU_ASSERT_EQUAL_FATAL(a->n_files, 2);
	CU_ASSERT_STRING_EQUAL(a->files[0], "/etc/laps/a.pub");
	CU_ASSERT_STRING_EQUAL(a->files[1], "/etc/laps/b.pub");
	CU_ASSERT_STRING_EQUAL(a->sep, "::");
	/* LAPS_CONF_LOWER */
	CU_ASSERT_STRING_EQUAL(a->host, "ws-42.example.org");
	CU_ASSERT_EQUAL(beta(&cfg)->level, 0);
	CU_ASSERT_STRING_EQUAL(beta(&cfg)->note, "n");
	/* Which sections the file had, and where. */
	CU_ASSERT_TRUE(laps_conf_present(&cfg, &alpha_section));
	CU_ASSERT_TRUE(laps_conf_present(&cfg, &beta_section));
	CU_ASSERT_EQUAL(cfg.line[0], 4);
	CU_ASSERT_EQUAL(cfg.line[1], 21);
}

static void
test_enum_spellings(void)
{
	static const struct {
		const char *text;
		size_t off;
		int want;
	} cases[] = {
	    {"[alpha]\nshade = light\n", offsetof(struct t_alpha, shade), SHADE_LIGHT},
	    {"[alpha]\nshade = dark\n", offsetof(struct t_alpha, shade), SHADE_DARK},
	    {"[alpha]\nshade = none\n", offsetof(struct t_alpha, shade), SHADE_NONE},
	    {"[alpha]\nflag = no\n", offsetof(struct t_alpha, flag), LAPS_NO},
	    {"[alpha]\nflag = yes\n", offsetof(struct t_alpha, flag), LAPS_YES},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		reset();
		/* Start from a value different from the wanted one. */
		*(int *)(void *)((char *)alpha(&cfg) + cases[i].off) = 99;
		CU_ASSERT_EQUAL(parse(cases[i].text), 0);
		CU_ASSERT_EQUAL(*(int *)(void *)((char *)alpha(&cfg) + cases[i].off),
				cases[i].want);
	}
	EXPECT_ERR("[alpha]\nshade = Dark\n", NAME ":2:", "[alpha] shade",
		   "allowed: light, dark, none");
	EXPECT_ERR("[alpha]\nflag = true\n", NAME ":2:", "[alpha] flag", "allowed: no, yes");
	EXPECT_ERR("[alpha]\nflag = 1\n", NAME ":2:", "[alpha] flag", "allowed: no, yes");
}

static void
test_syntax(void)
{
	reset();
	/* CRLF line ends, blank lines with blanks, trailing blanks, no final newline. */
	CU_ASSERT_EQUAL(parse("\r\n  \t\r\n[alpha]\r\n\tcount\t=\t24  \r\ncost=4"), 0);
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 24);
	CU_ASSERT_EQUAL(alpha(&cfg)->cost, 4);
	/* A UTF-8 byte order mark at the start is skipped. */
	CU_ASSERT_EQUAL(parse("\xef\xbb\xbf[alpha]\ncount = 25\n"), 0);
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 25);
	/* ... only at the start. */
	EXPECT_ERR("[alpha]\n\xef\xbb\xbf"
		   "count = 25\n",
		   NAME ":2:", "unknown key", NULL);
	/* An empty value is allowed with LAPS_CONF_EMPTY_OK. */
	CU_ASSERT_EQUAL(parse("[alpha]\nsep =\n"), 0);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->sep, "");
	/* '#' inside a value is part of it (comments only on their own line). */
	CU_ASSERT_EQUAL(parse("[alpha]\nsep = #\n"), 0);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->sep, "#");
	CU_ASSERT_EQUAL(parse("[alpha]\nstr = a ; b # c\n"), 0);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->str, "a ; b # c");
	/* A section may be opened again; keys accumulate. */
	CU_ASSERT_EQUAL(parse("[alpha]\nshade = none\n[beta]\nlevel = 9\n[alpha]\nflag = yes\n"),
			0);
	CU_ASSERT_EQUAL(alpha(&cfg)->shade, SHADE_NONE);
	CU_ASSERT_EQUAL(alpha(&cfg)->flag, LAPS_YES);
	CU_ASSERT_EQUAL(beta(&cfg)->level, 9);
	/* A list replaces the default, it does not append. */
	CU_ASSERT_EQUAL(parse("[alpha]\nusers = a b\n"), 0);
	CU_ASSERT_EQUAL(alpha(&cfg)->n_users, 2);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->users[0], "a");
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->users[1], "b");
	CU_ASSERT_EQUAL(parse("[alpha]\nusers = c\n"), 0);
	CU_ASSERT_EQUAL(alpha(&cfg)->n_users, 1);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->users[0], "c");
	CU_ASSERT_PTR_NULL(alpha(&cfg)->users[1]);
}

static void
test_layering(void)
{
	reset();
	/* A second file overrides only what it sets (laps-get: user then system). */
	CU_ASSERT_EQUAL(laps_conf_parse(&cfg, "one.conf", "[alpha]\ncount = 30\n",
					strlen("[alpha]\ncount = 30\n")),
			0);
	CU_ASSERT_EQUAL(parse("[alpha]\ncost = 4\n"), 0);
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 30);
	CU_ASSERT_EQUAL(alpha(&cfg)->cost, 4);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
	/* The first file that had a section gives its line. */
	CU_ASSERT_EQUAL(cfg.line[0], 1);
	CU_ASSERT_EQUAL(parse("# x\n[beta]\n[alpha]\n"), 0);
	CU_ASSERT_EQUAL(cfg.line[0], 1);
	CU_ASSERT_EQUAL(cfg.line[1], 2);
}

static void
test_error_leaves_config_untouched(void)
{
	reset();
	CU_ASSERT_EQUAL(parse("[alpha]\ncount = 30\nusers = x\n"), 0);
	CU_ASSERT_EQUAL(parse("[alpha]\ncount = 40\nsep = +\nusers = y z\nhost = h\n[beta]\n"
			      "level = 3\n[gamma]\nx = 1\n[alpha]\nbogus = 1\n"),
			LAPS_ERR_CONFIG);
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 30);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->sep, "-");
	CU_ASSERT_EQUAL(alpha(&cfg)->n_users, 1);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->users[0], "x");
	CU_ASSERT_PTR_NULL(alpha(&cfg)->host);
	CU_ASSERT_EQUAL(beta(&cfg)->level, 10);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
	CU_ASSERT_FALSE(laps_conf_present(&cfg, &beta_section));
	/* ... and so does an error in the last line of a list. */
	CU_ASSERT_EQUAL(parse("[alpha]\nusers = p q\nfiles = /a b\n"), LAPS_ERR_CONFIG);
	CU_ASSERT_EQUAL(alpha(&cfg)->n_users, 1);
	CU_ASSERT_STRING_EQUAL(alpha(&cfg)->users[0], "x");
	CU_ASSERT_EQUAL(alpha(&cfg)->n_files, 0);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

static void
test_errors(void)
{
	char *big;
	size_t i;

	/* An unknown section names the sections of the schema (foreign ones too). */
	EXPECT_ERR("[alpha]\n[bogus]\n", NAME ":2:", "[bogus]", "unknown section");
	EXPECT_ERR("[alpha]\n[bogus]\n", "(known: alpha, beta, gamma)", NULL, NULL);
	EXPECT_ERR("[alpha\n", NAME ":1:", "[alpha", "]");
	EXPECT_ERR("[]\n", NAME ":1:", "[]", "unknown section");
	EXPECT_ERR("[ALPHA]\n", NAME ":1:", "[ALPHA]", "unknown section");
	EXPECT_ERR("[alpha]\nshade = none\nfoo = 1\n", NAME ":3:", "[alpha] foo", "unknown key");
	/* A key that exists, but in another section. */
	EXPECT_ERR("[beta]\ncount = 9\n", NAME ":2:", "[beta] count", "unknown key");
	EXPECT_ERR("# c\nusers = x\n[alpha]\n", NAME ":2:", "users", "before any [section]");
	EXPECT_ERR("# c\nno equals sign\n", NAME ":2:", "no equals sign", "missing '='");
	EXPECT_ERR("[alpha]\n\nshade none\n", NAME ":3:", "[alpha] shade", "missing '='");
	EXPECT_ERR("[alpha]\n= none\n", NAME ":2:", "[alpha]", "missing key");
	EXPECT_ERR("[alpha]\nshade =\n", NAME ":2:", "[alpha] shade", "empty value");
	EXPECT_ERR("[alpha]\nstr =\n", NAME ":2:", "[alpha] str", "empty value");
	EXPECT_ERR("[alpha]\nname = /usr/lib/evil.so\n", NAME ":2:", "[alpha] name", "a-z, 0-9");
	EXPECT_ERR("[alpha]\nusers =   \t\n", NAME ":2:", "[alpha] users", "empty value");
	EXPECT_ERR("[alpha]\ncount = 7\n", NAME ":2:", "[alpha] count", "8..128");
	EXPECT_ERR("[alpha]\nage = 59m\n", NAME ":2:", "[alpha] age", "1h..3650d");
	EXPECT_ERR("[alpha]\ncount = twenty\n", NAME ":2:", "[alpha] count", "not a number");
	EXPECT_ERR("[alpha]\ncount = -8\n", NAME ":2:", "[alpha] count", "8..128");
	EXPECT_ERR("[alpha]\nshade = red\n", NAME ":2:", "[alpha] shade",
		   "allowed: light, dark, none");
	EXPECT_ERR("[alpha]\nshade = none\n# again\nshade = dark\n", NAME ":4:", "[alpha] shade",
		   "first set on line 2");
	/* Duplicate across two openings of the same section. */
	EXPECT_ERR("[beta]\nnote = a\n[alpha]\n[beta]\nnote = b\n", NAME ":5:", "[beta] note",
		   "line 2");
	/* Not a duplicate: the same key in two sections. */
	EXPECT_OK("[alpha]\nstr = a\n[beta]\nnote = a\n[gamma]\nstr = b\nstr = c\n");
	EXPECT_ERRN("[alpha]\nstr = sha\0"
		    "512\n",
		    18, NAME ":2:", "NUL", NULL);
	EXPECT_ERRN("[alpha]\n\0\n", 10, NAME ":2:", "NUL", NULL);
	EXPECT_ERR("[alpha]\nstr = sha\x01"
		   "512\n",
		   NAME ":2:", "control character", NULL);
	EXPECT_ERR("[alpha]\nstr = a\x7f"
		   "\n",
		   NAME ":2:", "control character", NULL);
	/* A tab is not a control character here. */
	EXPECT_OK("[alpha]\nstr = a\tb\n");

	/* Line length: 1024 characters are fine, 1025 are not. */
	big = malloc(LAPS_CONFIG_MAX_SIZE + 2);
	CU_ASSERT_FATAL(big != NULL);
	memcpy(big, "[alpha]\n#", 9);
	memset(big + 9, 'x', 1023);
	memcpy(big + 9 + 1023, "\n", 2);
	EXPECT_OK(big);
	memcpy(big + 9 + 1023, "x\n", 3);
	EXPECT_ERR(big, NAME ":2:", "longer than 1024", NULL);
	/* Too long without a newline at the end, too. */
	big[9 + 1024] = '\0';
	EXPECT_ERR(big, NAME ":2:", "longer than 1024", NULL);

	/* File size: exactly the maximum is fine, one more byte is not. */
	for (i = 0; i < LAPS_CONFIG_MAX_SIZE; i++)
		big[i] = (i % 64 == 63) ? '\n' : '#';
	big[LAPS_CONFIG_MAX_SIZE] = '\0';
	EXPECT_OK(big);
	big[LAPS_CONFIG_MAX_SIZE] = '\n';
	big[LAPS_CONFIG_MAX_SIZE + 1] = '\0';
	EXPECT_ERR(big, NAME, "larger than 65536", NULL);
	free(big);

	/* The name defaults when NULL; NULL buffer only with length 0. */
	reset();
	CU_ASSERT_EQUAL(laps_conf_parse(&cfg, NULL, "[x]\n", 4), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("(config):1:"));
	CU_ASSERT_EQUAL(laps_conf_parse(&cfg, NAME, NULL, 0), 0);
	CU_ASSERT_EQUAL(laps_conf_parse(&cfg, NAME, NULL, 5), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_conf_parse(NULL, NAME, "", 0), LAPS_ERR_INVALID);
	{
		/* Not laps_conf_init'ed (no schema). */
		struct laps_conf z;

		memset(&z, 0, sizeof z);
		CU_ASSERT_EQUAL(laps_conf_parse(&z, NAME, "", 0), LAPS_ERR_INVALID);
	}
}

static void
test_value_types(void)
{
	char line[128];

	/* paths */
	EXPECT_OK("[alpha]\npath = /\n");
	EXPECT_ERR("[alpha]\npath = var/lib/laps\n", NAME ":2:", "[alpha] path", "absolute");
	EXPECT_ERR("[alpha]\npath = ~/.config/laps/admin.key\n", NAME ":2:", "[alpha] path",
		   "absolute");
	EXPECT_ERR("[alpha]\nfiles = /a.pub b.pub\n", NAME ":2:", "[alpha] files", "'b.pub'");
	EXPECT_ERR("[alpha]\nfiles = /a.pub /a.pub\n", NAME ":2:", "[alpha] files", "listed twice");
	/* names */
	EXPECT_OK("[alpha]\nname = a-z_0-9\n");
	EXPECT_ERR("[alpha]\nname = LDAP\n", NAME ":2:", "[alpha] name", "a-z");
	EXPECT_ERR("[alpha]\nname = a b\n", NAME ":2:", "[alpha] name", "a-z");
	memset(line, 0, sizeof line);
	snprintf(line, sizeof line, "[alpha]\nname = %064d\n", 0);
	EXPECT_OK(line);
	snprintf(line, sizeof line, "[alpha]\nname = %065d\n", 0);
	EXPECT_ERR(line, NAME ":2:", "[alpha] name", "at most 64");
	/* URLs */
	EXPECT_OK("[alpha]\nurl = https://h\n");
	EXPECT_OK("[alpha]\nurl = http://127.0.0.1\n");
	EXPECT_OK("[alpha]\nurl = http://127.0.0.1:8080/v1\n");
	EXPECT_OK("[alpha]\nurl = http://[::1]:9000/token\n");
	EXPECT_ERR("[alpha]\nurl = http://escrow.example.org/v1\n", NAME ":2:", "[alpha] url",
		   "https://");
	EXPECT_ERR("[alpha]\nurl = http://127.0.0.1.evil.example/\n", NAME ":2:", "[alpha] url",
		   "https://");
	EXPECT_ERR("[alpha]\nurl = ftp://h/\n", NAME ":2:", "[alpha] url", "https://");
	EXPECT_ERR("[alpha]\nurl = https://\n", NAME ":2:", "[alpha] url", "without a host");
	EXPECT_ERR("[alpha]\nurl = https:///x\n", NAME ":2:", "[alpha] url", "without a host");
	EXPECT_ERR("[alpha]\nurl = https://u:p@h/\n", NAME ":2:", "[alpha] url", "credentials");
	EXPECT_ERR("[alpha]\nurl = https://h/a b\n", NAME ":2:", "[alpha] url", "blanks");
	/* user names (laps_conf_check_account) like useradd */
	EXPECT_OK("[alpha]\nusers = _a a0 a-b a_b a$\n");
	EXPECT_ERR("[alpha]\nusers = Admin\n", NAME ":2:", "[alpha] users", "'Admin'");
	EXPECT_ERR("[alpha]\nusers = ok 1abc\n", NAME ":2:", "[alpha] users", "'1abc'");
	EXPECT_ERR("[alpha]\nusers = a$b\n", NAME ":2:", "[alpha] users", "'a$b'");
	EXPECT_ERR("[alpha]\nusers = -a\n", NAME ":2:", "[alpha] users", "'-a'");
	EXPECT_ERR("[alpha]\nusers = a.b\n", NAME ":2:", "[alpha] users", "'a.b'");
	EXPECT_OK("[alpha]\nusers = abcdefghijklmnopqrstuvwxyz012345\n");
	EXPECT_ERR("[alpha]\nusers = abcdefghijklmnopqrstuvwxyz0123456\n",
		   NAME ":2:", "[alpha] users", "longer than 32");
	EXPECT_ERR("[alpha]\nusers = a b a\n", NAME ":2:", "[alpha] users", "listed twice");
	/* list length: 16 fine, 17 not */
	EXPECT_OK("[alpha]\nusers = a b c d e f g h i j k l m n o p\n");
	EXPECT_ERR("[alpha]\nusers = a b c d e f g h i j k l m n o p q\n",
		   NAME ":2:", "[alpha] users", "at most 16");
	/* list items without a check of their own: printable ASCII words */
	EXPECT_OK("[alpha]\nwords = a:b c=d,e\n");
	EXPECT_ERR("[alpha]\nwords = ok caf\xc3\xa9\n", NAME ":2:", "[alpha] words",
		   "printable ASCII");
	/* a component's own check on a string */
	EXPECT_OK("[alpha]\nsep = .-_+\n");
	EXPECT_ERR("[alpha]\nsep = -----\n", NAME ":2:", "[alpha] sep", "at most 4");
	/* host names (laps_conf_check_host) */
	EXPECT_OK("[alpha]\nhost = ws_1.example-2.org\n");
	EXPECT_ERR("[alpha]\nhost = -ws\n", NAME ":2:", "[alpha] host", "host name");
	EXPECT_ERR("[alpha]\nhost = ws..example\n", NAME ":2:", "[alpha] host", "host name");
	EXPECT_ERR("[alpha]\nhost = ws.\n", NAME ":2:", "[alpha] host", "host name");
	EXPECT_ERR("[alpha]\nhost = ws/1\n", NAME ":2:", "[alpha] host", "host name");
	EXPECT_ERR("[alpha]\nhost = a-very-long-label-that-goes-on-and-on-for-more-than-"
		   "sixty-three-chars.example\n",
		   NAME ":2:", "[alpha] host", "63");
	/* An over-long value is echoed shortened. */
	snprintf(line, sizeof line, "[alpha]\nshade = %0100d\n", 1);
	EXPECT_ERR(line, NAME ":2:", "...", NULL);
	snprintf(line, sizeof line, "[alpha]\npath = %0100d\n", 1);
	EXPECT_ERR(line, NAME ":2:", "...", "absolute");
}

static void
test_durations(void)
{
	static const struct {
		const char *s;
		int64_t want;
	} good[] = {
	    {"0", 0},
	    {"90s", 90},
	    {"15m", 900},
	    {"12h", 43200},
	    {"30d", 2592000},
	    {"2w", 1209600},
	    {"42", 42},
	    {"007m", 420},
	    {"9223372036854775807", INT64_MAX},
	    {"9223372036854775807s", INT64_MAX},
	    {"106751991167300d", 106751991167300LL * 86400},
	    {"15250284452471w", 15250284452471LL * 604800},
	};
	static const char *const bad[] = {
	    "",
	    "s",
	    "d",
	    "10x",
	    "10S",
	    "-5",
	    "+5",
	    "1.5h",
	    " 5",
	    "5 ",
	    "5 s",
	    "1h30m",
	    "h1",
	    "5ss",
	    "9223372036854775808",
	    "99999999999999999999999",
	    "106751991167301d",
	    "15250284452472w",
	    "153722867280912931m",
	};
	static const struct {
		long long v;
		const char *want;
	} fmt[] = {
	    {0, "0s"},
	    {1, "1s"},
	    {59, "59s"},
	    {60, "1m"},
	    {300, "5m"},
	    {3600, "1h"},
	    {5400, "90m"},
	    {86400, "1d"},
	    {3650 * DAY_S, "3650d"},
	    {30 * DAY_S + 1, "2592001s"},
	};
	char buf[32];
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = -1;
		CU_ASSERT_EQUAL(laps_config_parse_duration(good[i].s, &v), 0);
		CU_ASSERT_EQUAL(v, good[i].want);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = -1;
		if (laps_config_parse_duration(bad[i], &v) != LAPS_ERR_INVALID)
			fprintf(stderr, "\n  duration \"%s\" accepted\n", bad[i]);
		CU_ASSERT_EQUAL(laps_config_parse_duration(bad[i], &v), LAPS_ERR_INVALID);
		CU_ASSERT_EQUAL(v, -1);
	}
	CU_ASSERT_EQUAL(laps_config_parse_duration(NULL, &v), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_config_parse_duration("1", NULL), LAPS_ERR_INVALID);
	/* The ranges in messages: the largest unit that divides exactly. */
	for (i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
		laps_conf_format_duration(fmt[i].v, buf, sizeof buf);
		CU_ASSERT_STRING_EQUAL(buf, fmt[i].want);
	}
	/* In a file: an overflowing duration is an error naming the key. */
	EXPECT_ERR("[alpha]\ndelay = 106751991167301d\n", NAME ":2:", "[alpha] delay",
		   "not a duration");
	EXPECT_ERR("[alpha]\ntimeout = 10q\n", NAME ":2:", "[alpha] timeout", "1s..5m");
}

struct range_case {
	const char *key, *lo, *hi, *below, *above; /* below NULL: none */
	size_t off;
	int kind; /* 0 unsigned, 1 int64 */
	long long lo_v, hi_v;
};

static void
test_ranges(void)
{
#define U(k, f, lo, hi, below, above)                                                              \
	{                                                                                          \
		k, #lo, #hi, below, above, offsetof(struct t_alpha, f), 0, lo, hi                  \
	}
#define D(k, f, lo, hi, below, above, lov, hiv)                                                    \
	{                                                                                          \
		k, lo, hi, below, above, offsetof(struct t_alpha, f), 1, lov, hiv                  \
	}
	static const struct range_case cases[] = {
	    U("count", count, 8, 128, "7", "129"),
	    U("cost", cost, 0, 999999999, NULL, "1000000000"),
	    D("age", age, "1h", "3650d", "3599", "3651d", 3600, 3650LL * 86400),
	    D("timeout", timeout, "1s", "300s", "0", "301", 1, 300),
	    D("timeout", timeout, "1", "5m", "0s", "6m", 1, 300),
	    D("delay", delay, "0", "30d", NULL, "2592001", 0, 30LL * 86400),
	};
	char text[256], key[64];
	long long got;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct range_case *c = &cases[i];
		const char *vals[2] = {c->lo, c->hi};
		long long want[2] = {c->lo_v, c->hi_v};
		int j;

		snprintf(key, sizeof key, "[alpha] %s", c->key);
		for (j = 0; j < 2; j++) {
			reset();
			snprintf(text, sizeof text, "[alpha]\n%s = %s\n", c->key, vals[j]);
			CU_ASSERT_EQUAL(parse(text), 0);
			got = c->kind == 0
				  ? (long long)*(unsigned *)(void *)((char *)alpha(&cfg) + c->off)
				  : (long long)*(int64_t *)(void *)((char *)alpha(&cfg) + c->off);
			if (got != want[j])
				fprintf(stderr, "\n  %s = %s gave %lld\n", key, vals[j], got);
			CU_ASSERT_EQUAL(got, want[j]);
		}
		if (c->below != NULL) {
			snprintf(text, sizeof text, "[alpha]\n%s = %s\n", c->key, c->below);
			EXPECT_ERR(text, NAME ":2:", key, "out of range");
		}
		snprintf(text, sizeof text, "[alpha]\n%s = %s\n", c->key, c->above);
		EXPECT_ERR(text, NAME ":2:", key, "out of range");
	}
	/* A number larger than any range is out of range, not wrapped. */
	EXPECT_ERR("[beta]\nlevel = 4294967297\n", NAME ":2:", "[beta] level", "out of range");
	EXPECT_ERR("[beta]\nlevel = 99999999999999999999\n", NAME ":2:", "[beta] level",
		   "not a number");
#undef U
#undef D
}

/* ------------------------------------------------------------------ */
/* Foreign and skipped sections                                        */

static void
test_foreign(void)
{
	reset();
	/* Another program's section: its lines are not interpreted ... */
	CU_ASSERT_EQUAL(parse("[gamma]\nkey = /home/alice/admin.key\nunknown = 1\nkey = twice\n"
			      "[alpha]\ncount = 9\n"),
			0);
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 9);
	/* ... but must have the key = value shape. */
	EXPECT_ERR("[gamma]\nno equals\n", NAME ":2:", "[gamma] no equals", "missing '='");
	EXPECT_ERR("[gamma]\n= x\n", NAME ":2:", "[gamma]", "missing key");
	EXPECT_ERR("[gamma]\nx = \x01\n", NAME ":2:", "control character", NULL);
	/* A foreign section is not in the configuration. */
	CU_ASSERT_EQUAL(cfg.n, 2);
}

static void
test_skip_unknown(void)
{
	static const char skipped[] = "[beta]\nlevel = 1000\nbogus = x\n[zeta]\nk = v\n"
				      "[alpha]\ncount = 9\n[other-section_2]\nlevel = -1\n";
	struct laps_conf c;

	CU_ASSERT_FATAL(laps_conf_init(&c, &skip_schema) == 0);
	CU_ASSERT_EQUAL(c.n, 1);
	CU_ASSERT_PTR_NULL(laps_conf_get(&c, &beta_section));
	/* Sections of no table are skipped, their keys not looked at ... */
	CU_ASSERT_EQUAL(laps_conf_parse(&c, NAME, skipped, sizeof skipped - 1), 0);
	CU_ASSERT_EQUAL(alpha(&c)->count, 9);
	laps_conf_free(&c);
	/* ... but the sections of the table are checked as ever, */
	EXPECT_ERR_S(&skip_schema, "[zeta]\n[alpha]\nbogus = 1\n", NAME ":3:", "[alpha] bogus",
		     "unknown key");
	EXPECT_ERR_S(&skip_schema, "[alpha]\ncount = 7\n", NAME ":2:", "[alpha] count", "8..128");
	/* a line must still be key = value, and a header a word. */
	EXPECT_ERR_S(&skip_schema, "[zeta]\nno equals\n", NAME ":2:", "missing '='",
		     "[zeta] no equals");
	EXPECT_ERR_S(&skip_schema, "[]\n", NAME ":1:", "[]", "unknown section");
	EXPECT_ERR_S(&skip_schema, "[a b]\n", NAME ":1:", "[a b]", "unknown section");
	EXPECT_ERR_S(&skip_schema, "[zeta\n", NAME ":1:", "]", NULL);
	EXPECT_ERR_S(&skip_schema, "k = v\n[zeta]\n", NAME ":1:", "before any [section]", NULL);
	/* Without the flag the same file is refused. */
	EXPECT_ERR("[zeta]\nk = v\n", NAME ":1:", "[zeta]", "unknown section");
}

/* ------------------------------------------------------------------ */
/* Init, free, access, helpers                                         */

static int fail_defaults_calls;

static int
fail_defaults(void *p)
{
	struct t_beta *b = p;

	fail_defaults_calls++;
	/* allocates, then fails: the parser frees what it allocated */
	if ((b->note = strdup("half")) == NULL)
		return LAPS_ERR_NOMEM;
	return LAPS_ERR_NOMEM;
}

static void
test_init_free(void)
{
	static const struct laps_conf_section failing = {"failing", beta_keys, N(beta_keys),
							 sizeof(struct t_beta), fail_defaults};
	static const struct laps_conf_section *const failing_list[] = {&failing, NULL};
	static const struct laps_conf_section other_alpha = {"alpha", beta_keys, N(beta_keys),
							     sizeof(struct t_beta), NULL};
	static const struct laps_conf_section *const other_alpha_list[] = {&other_alpha, NULL};
	static const struct laps_conf_schema fail_schema = {{alpha_list, failing_list}, NULL, 0};
	static const struct laps_conf_schema twice_schema = {
	    {alpha_list, other_alpha_list}, NULL, 0};
	static const struct laps_conf_schema empty_schema = {{NULL}, NULL, 0};
	static const struct laps_conf_section *many_list[LAPS_CONF_MAX_SECTIONS + 2];
	static struct laps_conf_section many[LAPS_CONF_MAX_SECTIONS + 1];
	static char many_names[LAPS_CONF_MAX_SECTIONS + 1][8];
	struct laps_conf_schema many_schema;
	struct laps_conf c;
	size_t i;

	memset(&c, 0, sizeof c);
	laps_conf_free(&c); /* zeroed struct: nothing to free */
	laps_conf_free(NULL);
	CU_ASSERT_EQUAL(laps_conf_init(NULL, &schema), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_conf_init(&c, NULL), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL_FATAL(laps_conf_init(&c, &schema), 0);
	CU_ASSERT_EQUAL(laps_conf_parse(&c, NAME, every_key, strlen(every_key)), 0);
	laps_conf_free(&c);
	CU_ASSERT_PTR_NULL(c.path);
	CU_ASSERT_EQUAL(c.n, 0);
	CU_ASSERT_PTR_NULL(alpha(&c));
	CU_ASSERT_EQUAL_FATAL(laps_conf_init(&c, &schema), 0);
	CU_ASSERT_EQUAL(alpha(&c)->count, 20);
	laps_conf_free(&c);

	/* A schema with no section: every section header is unknown. */
	CU_ASSERT_EQUAL_FATAL(laps_conf_init(&c, &empty_schema), 0);
	CU_ASSERT_EQUAL(c.n, 0);
	CU_ASSERT_EQUAL(laps_conf_parse(&c, NAME, "# only a comment\n", 17), 0);
	CU_ASSERT_EQUAL(laps_conf_parse(&c, NAME, "[alpha]\n", 8), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("unknown section"));
	laps_conf_free(&c);

	/* A failing defaults function: the error, and nothing to free (valgrind). */
	fail_defaults_calls = 0;
	CU_ASSERT_EQUAL(laps_conf_init(&c, &fail_schema), LAPS_ERR_NOMEM);
	CU_ASSERT_EQUAL(fail_defaults_calls, 1);
	CU_ASSERT_EQUAL(c.n, 0);
	/* Two sections of one name. */
	CU_ASSERT_EQUAL(laps_conf_init(&c, &twice_schema), LAPS_ERR_INVALID);
	CU_ASSERT(detail_has("[alpha] twice"));
	/* At most LAPS_CONF_MAX_SECTIONS sections. */
	for (i = 0; i < LAPS_CONF_MAX_SECTIONS + 1; i++) {
		snprintf(many_names[i], sizeof many_names[i], "s%zu", i);
		many[i] = beta_section;
		many[i].name = many_names[i];
		many_list[i] = &many[i];
	}
	many_list[LAPS_CONF_MAX_SECTIONS] = NULL;
	memset(&many_schema, 0, sizeof many_schema);
	many_schema.lists[0] = many_list;
	CU_ASSERT_EQUAL_FATAL(laps_conf_init(&c, &many_schema), 0);
	CU_ASSERT_EQUAL(c.n, LAPS_CONF_MAX_SECTIONS);
	laps_conf_free(&c);
	many_list[LAPS_CONF_MAX_SECTIONS] = &many[LAPS_CONF_MAX_SECTIONS];
	many_list[LAPS_CONF_MAX_SECTIONS + 1] = NULL;
	CU_ASSERT_EQUAL(laps_conf_init(&c, &many_schema), LAPS_ERR_INVALID);
	CU_ASSERT(detail_has("more than 32 sections"));
}

static void
test_access(void)
{
	static const struct laps_conf_section stranger = {"stranger", NULL, 0, 1, NULL};

	reset();
	CU_ASSERT_PTR_NOT_NULL(alpha(&cfg));
	CU_ASSERT_PTR_NULL(laps_conf_get(&cfg, &stranger));
	CU_ASSERT_PTR_NULL(laps_conf_get(NULL, &alpha_section));
	CU_ASSERT_FALSE(laps_conf_present(NULL, &alpha_section));
	CU_ASSERT_FALSE(laps_conf_present(&cfg, &stranger));
	CU_ASSERT_STRING_EQUAL(laps_conf_name(NULL), "(defaults)");

	/* A cross-field error names the file, the section and the key. */
	laps_clearerr();
	CU_ASSERT_EQUAL(laps_conf_err(&cfg, "alpha", "count", "too big for beta"), LAPS_ERR_CONFIG);
	CU_ASSERT_STRING_EQUAL(laps_errdetail(), "(defaults): [alpha] count: too big for beta");
	CU_ASSERT_EQUAL(parse(""), 0);
	CU_ASSERT_EQUAL(laps_conf_err(&cfg, "beta", "level", "x"), LAPS_ERR_CONFIG);
	CU_ASSERT_STRING_EQUAL(laps_errdetail(), NAME ": [beta] level: x");

	/* enum names */
	CU_ASSERT_STRING_EQUAL(laps_conf_enum_name(shade_names, SHADE_LIGHT), "light");
	CU_ASSERT_STRING_EQUAL(laps_conf_enum_name(shade_names, SHADE_NONE), "none");
	CU_ASSERT_STRING_EQUAL(laps_conf_enum_name(shade_names, 3), "unknown");
	CU_ASSERT_STRING_EQUAL(laps_conf_enum_name(shade_names, -1), "unknown");
	CU_ASSERT_STRING_EQUAL(laps_yesno_name(LAPS_YES), "yes");
	CU_ASSERT_STRING_EQUAL(laps_yesno_name(LAPS_NO), "no");
	CU_ASSERT_STRING_EQUAL(laps_yesno_name((enum laps_yesno)2), "unknown");
}

static void
test_checks(void)
{
	char long_path[4200];

	CU_ASSERT_PTR_NULL(laps_conf_check_path("/a"));
	CU_ASSERT_PTR_NOT_NULL(laps_conf_check_path("a"));
	memset(long_path, 'x', sizeof long_path - 1);
	long_path[0] = '/';
	long_path[sizeof long_path - 1] = '\0';
	CU_ASSERT_PTR_NOT_NULL(laps_conf_check_path(long_path));
	CU_ASSERT_PTR_NULL(laps_conf_check_name("pkcs11"));
	CU_ASSERT_PTR_NOT_NULL(laps_conf_check_name("PKCS11"));
	CU_ASSERT_PTR_NULL(laps_conf_check_url("https://h/x"));
	CU_ASSERT_PTR_NOT_NULL(laps_conf_check_url("http://h/x"));
	CU_ASSERT_PTR_NULL(laps_conf_check_word("a=b"));
	CU_ASSERT_PTR_NOT_NULL(laps_conf_check_word("a b"));
	CU_ASSERT_PTR_NULL(laps_conf_check_account("lapsadmin"));
	CU_ASSERT_PTR_NOT_NULL(laps_conf_check_account("../etc"));
	CU_ASSERT_PTR_NULL(laps_conf_check_host("WS-1.example.org"));
	CU_ASSERT_PTR_NOT_NULL(laps_conf_check_host(""));
}

/* laps_conf_set_list_csv, laps_conf_set_string (pam_laps' overrides) */
static void
test_overrides(void)
{
	struct t_alpha *a;
	char long_name[LAPS_ACCOUNT_MAX + 2];

	reset();
	a = alpha(&cfg);
	CU_ASSERT_EQUAL(laps_conf_set_list_csv(a->users, &a->n_users, "adm1,adm2", LAPS_ACCOUNT_MAX,
					       laps_conf_check_account, "users="),
			0);
	CU_ASSERT_EQUAL(a->n_users, 2);
	CU_ASSERT_STRING_EQUAL(a->users[0], "adm1");
	CU_ASSERT_STRING_EQUAL(a->users[1], "adm2");
	/* errors leave the list as it was */
	CU_ASSERT_EQUAL(laps_conf_set_list_csv(a->users, &a->n_users, "a,,b", LAPS_ACCOUNT_MAX,
					       laps_conf_check_account, "users="),
			LAPS_ERR_INVALID);
	CU_ASSERT(detail_has("users="));
	CU_ASSERT_EQUAL(laps_conf_set_list_csv(a->users, &a->n_users, "", LAPS_ACCOUNT_MAX,
					       laps_conf_check_account, "users="),
			LAPS_ERR_INVALID);
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	CU_ASSERT_EQUAL(laps_conf_set_list_csv(a->users, &a->n_users, long_name, LAPS_ACCOUNT_MAX,
					       laps_conf_check_account, "users="),
			LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_conf_set_list_csv(a->users, &a->n_users,
					       "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q",
					       LAPS_ACCOUNT_MAX, laps_conf_check_account, "users="),
			LAPS_ERR_INVALID);
	CU_ASSERT(detail_has("more than 16"));
	CU_ASSERT_EQUAL(laps_conf_set_list_csv(a->users, &a->n_users, "ok,../etc", LAPS_ACCOUNT_MAX,
					       laps_conf_check_account, "users="),
			LAPS_ERR_INVALID);
	CU_ASSERT(detail_has("'../etc'"));
	CU_ASSERT_EQUAL(a->n_users, 2);
	CU_ASSERT_STRING_EQUAL(a->users[1], "adm2");
	/* 16 items replace 2; 1 item replaces 16 and clears the rest */
	CU_ASSERT_EQUAL(laps_conf_set_list_csv(a->users, &a->n_users,
					       "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", LAPS_ACCOUNT_MAX,
					       laps_conf_check_account, "users="),
			0);
	CU_ASSERT_EQUAL(a->n_users, 16);
	CU_ASSERT_EQUAL(laps_conf_set_list_csv(a->users, &a->n_users, "z", LAPS_ACCOUNT_MAX,
					       laps_conf_check_account, "users="),
			0);
	CU_ASSERT_EQUAL(a->n_users, 1);
	CU_ASSERT_STRING_EQUAL(a->users[0], "z");
	CU_ASSERT_PTR_NULL(a->users[1]);
	CU_ASSERT_PTR_NULL(a->users[15]);

	CU_ASSERT_EQUAL(laps_conf_set_string(&a->path, "/run/laps"), 0);
	CU_ASSERT_STRING_EQUAL(a->path, "/run/laps");
	CU_ASSERT_EQUAL(laps_conf_set_string(&a->path, "/run/other"), 0);
	CU_ASSERT_STRING_EQUAL(a->path, "/run/other");
}

/* ------------------------------------------------------------------ */
/* Files: owner and mode                                              */

static void
test_load(void)
{
	char dir[2048], path[4096], want[4200];
	int rc;

	snprintf(dir, sizeof dir, "%s", laps_test_tmpdir());
	snprintf(path, sizeof path, "%s/t.conf", dir);

	reset();
	CU_ASSERT_EQUAL(laps_conf_load(&cfg, path, LAPS_CONFIG_NO_OWNER), LAPS_ERR_NOTFOUND);
	CU_ASSERT(detail_has(path));

	CU_ASSERT_FATAL(laps_test_write_file(path, "[alpha]\ncount = 33\n", 0644) == 0);
	CU_ASSERT_EQUAL(laps_conf_load(&cfg, path, LAPS_CONFIG_NO_OWNER), 0);
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 33);
	CU_ASSERT_STRING_EQUAL(cfg.path, path);

	/* A parse error names the file by its path and the line. */
	CU_ASSERT_FATAL(laps_test_write_file(path, "[alpha]\n\ncount = 3\n", 0644) == 0);
	rc = laps_conf_load(&cfg, path, LAPS_CONFIG_NO_OWNER);
	CU_ASSERT_EQUAL(rc, LAPS_ERR_CONFIG);
	snprintf(want, sizeof want, "%s:3: [alpha] count", path);
	CU_ASSERT(detail_has(want));
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 33);

	/* Too large on disk: LAPS_ERR_CONFIG naming the file. */
	{
		char *big = malloc(LAPS_CONFIG_MAX_SIZE + 2);
		CU_ASSERT_FATAL(big != NULL);
		memset(big, '#', LAPS_CONFIG_MAX_SIZE + 1);
		big[LAPS_CONFIG_MAX_SIZE + 1] = '\0';
		CU_ASSERT_FATAL(laps_test_write_file(path, big, 0644) == 0);
		free(big);
	}
	CU_ASSERT_EQUAL(laps_conf_load(&cfg, path, LAPS_CONFIG_NO_OWNER), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has(path));
	CU_ASSERT(detail_has("larger than 65536"));
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(laps_conf_load(&cfg, path, LAPS_CONFIG_CHECK_OWNER),
				LAPS_ERR_CONFIG);
		CU_ASSERT(detail_has("larger than 65536"));
	}
	CU_ASSERT_EQUAL(alpha(&cfg)->count, 33);

	CU_ASSERT_EQUAL(laps_conf_load(NULL, path, 0), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_conf_load(&cfg, NULL, 0), LAPS_ERR_INVALID);
	laps_test_rmrf(dir);
}

/* Load path with flags into a fresh config; returns the result code. */
static int
load_fresh(const char *path, unsigned flags)
{
	struct laps_conf c;
	int rc;

	if (laps_conf_init(&c, &schema) != 0)
		return LAPS_ERR_NOMEM;
	laps_clearerr();
	rc = laps_conf_load(&c, path, flags);
	if (rc == 0 && alpha(&c)->count != 21)
		rc = LAPS_ERR_INTERNAL;
	laps_conf_free(&c);
	return rc;
}

static void
test_owner_mode(void)
{
	static const unsigned flag_sets[] = {0, LAPS_CONFIG_CHECK_OWNER};
	char dir[2048], path[4096], link[4096];
	size_t i;

	if (geteuid() != 0) {
		fprintf(stderr, "\n  (owner/mode checks need root: skipped)\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s", laps_test_tmpdir());
	snprintf(path, sizeof path, "%s/t.conf", dir);
	snprintf(link, sizeof link, "%s/link.conf", dir);
	CU_ASSERT_FATAL(laps_test_write_file(path, "[alpha]\ncount = 21\n", 0644) == 0);
	CU_ASSERT_FATAL(chown(path, 0, 0) == 0);
	CU_ASSERT_FATAL(symlink(path, link) == 0);

	for (i = 0; i < 2; i++) {
		unsigned fl = flag_sets[i];

		CU_ASSERT_FATAL(chown(path, 0, 0) == 0);
		CU_ASSERT_FATAL(chmod(path, 0644) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), 0);
		CU_ASSERT_FATAL(chmod(path, 0600) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), 0);

		CU_ASSERT_FATAL(chmod(path, 0666) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), LAPS_ERR_PERM);
		CU_ASSERT(detail_has(path));
		CU_ASSERT_FATAL(chmod(path, 0664) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), LAPS_ERR_PERM);
		CU_ASSERT(detail_has(path));
		/* ... but not with NO_OWNER (laps-get user files). */
		CU_ASSERT_EQUAL(load_fresh(path, fl | LAPS_CONFIG_NO_OWNER), 0);

		CU_ASSERT_FATAL(chmod(path, 0644) == 0);
		CU_ASSERT_FATAL(chown(path, 65534, 0) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), LAPS_ERR_PERM);
		CU_ASSERT(detail_has(path));
		CU_ASSERT(detail_has("root"));
		CU_ASSERT_FATAL(chown(path, 0, 65534) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), 0); /* group other than root is fine */
		CU_ASSERT_FATAL(chown(path, 65534, 65534) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl | LAPS_CONFIG_NO_OWNER), 0);

		/* A symbolic link is refused even to a good file. */
		CU_ASSERT_FATAL(chown(path, 0, 0) == 0);
		CU_ASSERT_EQUAL(load_fresh(link, fl), LAPS_ERR_PERM);
		CU_ASSERT(detail_has(link));
		CU_ASSERT_EQUAL(load_fresh(link, fl | LAPS_CONFIG_NO_OWNER), LAPS_ERR_PERM);

		/* Not a regular file. */
		CU_ASSERT_EQUAL(load_fresh(dir, fl), LAPS_ERR_PERM);
	}
	laps_test_rmrf(dir);
}

/*
 * As a non-root user, the check applies only with LAPS_CONFIG_CHECK_OWNER:
 * a file owned by that user is read without the flag and refused with it.
 */
static void
test_check_owner_not_root(void)
{
	char dir[2048], path[4096];
	pid_t pid;
	int status = -1;

	if (geteuid() != 0) {
		fprintf(stderr, "\n  (needs root to switch users: skipped)\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s", laps_test_tmpdir());
	snprintf(path, sizeof path, "%s/user.conf", dir);
	CU_ASSERT_FATAL(chmod(dir, 0755) == 0);
	CU_ASSERT_FATAL(laps_test_write_file(path, "[alpha]\ncount = 21\n", 0644) == 0);
	CU_ASSERT_FATAL(chown(path, 65534, 65534) == 0);

	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int code = 0;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		if (load_fresh(path, 0) != 0)
			code |= 1;
		if (load_fresh(path, LAPS_CONFIG_CHECK_OWNER) != LAPS_ERR_PERM)
			code |= 2;
		if (strstr(laps_errdetail(), "not owned by root") == NULL)
			code |= 4;
		if (load_fresh(path, LAPS_CONFIG_CHECK_OWNER | LAPS_CONFIG_NO_OWNER) != 0)
			code |= 8;
		_exit(code);
	}
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fprintf(stderr, "\n  child exit code %d\n", WEXITSTATUS(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
	laps_test_rmrf(dir);
}

static CU_TestInfo parse_tests[] = {
    {"defaults", test_defaults},
    {"every key type", test_every_key},
    {"enum and yes/no spellings", test_enum_spellings},
    {"syntax", test_syntax},
    {"layering", test_layering},
    {"error leaves config untouched", test_error_leaves_config_untouched},
    {"errors name file:line and key", test_errors},
    {"value types", test_value_types},
    {"durations", test_durations},
    {"ranges at both ends", test_ranges},
    {"foreign sections", test_foreign},
    {"skip unknown sections", test_skip_unknown},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo api_tests[] = {
    {"init, free and re-init", test_init_free},
    {"access, messages, names", test_access},
    {"value checks", test_checks},
    {"list and string overrides", test_overrides},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo file_tests[] = {
    {"load", test_load},
    {"owner and mode (root)", test_owner_mode},
    {"check owner when not root", test_check_owner_not_root},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"conf-parse", setup, teardown, NULL, NULL, parse_tests},
    {"conf-api", setup, teardown, NULL, NULL, api_tests},
    {"conf-file", setup, teardown, NULL, NULL, file_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	return laps_test_main(argc, argv, suites);
}
