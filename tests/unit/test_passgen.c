/*
 * test_passgen.c — password and passphrase generator.
 *
 * Randomness is the deterministic ChaCha20 stream of testutil (installed
 * before sodium_init), so every run draws the same passwords and the
 * statistical tests are reproducible.
 *
 * The character sets below are copied from Microsoft's documentation of
 * Windows LAPS PasswordComplexity ("Windows LAPS passwords and
 * passphrases"), independently of agent/passgen.c, so the tests check the
 * generator against the documented presets.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "agent/passgen.h"
#include "escrow/err.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"
#include "agent/agent_conf.h"

#define NPRESETS 5
#define MAXCLASSES 4
#define EFF_WORDS 7776
#ifndef TEST_SEED
#define TEST_SEED 0x7061737367656eULL /* "passgen" */
#endif

static const char *const T_SETS[NPRESETS][MAXCLASSES] = {
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", NULL, NULL, NULL},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", NULL, NULL},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789", NULL},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789",
     ",.-+;!#&@{}[]$/()%"},
    {"ABCDEFGHJKLMNPRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "!#%+@:=?*"},
};

/* The preset's alphabet: characters, class of each, class sizes. */
struct t_alpha {
	char chars[128];
	int cls[128];
	size_t n;
	size_t nclasses;
	size_t size[MAXCLASSES];
	int index[256]; /* char -> position in chars, or -1 */
};

static void
t_alpha(unsigned complexity, struct t_alpha *a)
{
	size_t i, j;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < 256; i++)
		a->index[i] = -1;
	for (i = 0; i < MAXCLASSES && T_SETS[complexity - 1][i] != NULL; i++) {
		const char *s = T_SETS[complexity - 1][i];

		a->size[i] = strlen(s);
		for (j = 0; s[j] != '\0'; j++) {
			a->index[(unsigned char)s[j]] = (int)a->n;
			a->chars[a->n] = s[j];
			a->cls[a->n] = (int)i;
			a->n++;
		}
		a->nclasses++;
	}
}

static struct laps_passgen_policy
pw_policy(unsigned complexity, unsigned length)
{
	struct laps_passgen_policy p;

	memset(&p, 0, sizeof(p));
	p.mode = LAPS_PWMODE_PASSWORD;
	p.complexity = complexity;
	p.length = length;
	return p;
}

static struct laps_passgen_policy
pp_policy(unsigned words, const char *sep)
{
	struct laps_passgen_policy p;

	memset(&p, 0, sizeof(p));
	p.mode = LAPS_PWMODE_PASSPHRASE;
	p.words = words;
	snprintf(p.separator, sizeof(p.separator), "%s", sep);
	return p;
}

/* ---------------------------------------------------------------- chi-square */

/* 99.9% point of chi-square with df degrees of freedom (Wilson-Hilferty). */
static double
chi2_crit999(size_t df)
{
	const double z = 3.090232306167813; /* standard normal 0.999 quantile */
	double h = 2.0 / (9.0 * (double)df);

	return (double)df * pow(1.0 - h + z * sqrt(h), 3.0);
}

static double
chi2_stat(const uint64_t *obs, const double *p, size_t k, uint64_t n)
{
	double x = 0.0, e, d;
	size_t i;

	for (i = 0; i < k; i++) {
		e = (double)n * p[i];
		d = (double)obs[i] - e;
		x += d * d / e;
	}
	return x;
}

/*
 * Fraction of the N^L strings of length L over the alphabet that contain
 * every class in `required` (a bit mask), by inclusion-exclusion.
 */
static long double
t_valid_frac(const struct t_alpha *a, unsigned length, unsigned required)
{
	long double sum = 0.0L, term;
	unsigned mask;
	size_t i, m, bits;

	for (mask = 0; mask < (1u << a->nclasses); mask++) {
		if ((mask & ~required) != 0)
			continue;
		m = 0;
		bits = 0;
		for (i = 0; i < a->nclasses; i++)
			if (mask & (1u << i)) {
				m += a->size[i];
				bits++;
			}
		term = powl((long double)(a->n - m) / (long double)a->n, (long double)length);
		sum += (bits & 1) ? -term : term;
	}
	return sum;
}

/*
 * Expected probability of each character at any one position when the
 * passwords are uniform over the valid strings (every class present):
 * P(c) = #valid strings with c at that position / #valid strings
 *      = frac(L-1, all classes but class(c)) / (N * frac(L, all classes)).
 * Characters of one class are equally likely; characters of small classes
 * are slightly more likely than 1/N at short lengths.
 */
static void
t_expected(const struct t_alpha *a, unsigned length, double *p)
{
	unsigned full = (1u << a->nclasses) - 1;
	long double all = t_valid_frac(a, length, full), total = 0.0L;
	size_t c;

	for (c = 0; c < a->n; c++) {
		long double v = t_valid_frac(a, length - 1, full & ~(1u << a->cls[c]));

		p[c] = (double)(v / ((long double)a->n * all));
		total += p[c];
	}
	CU_ASSERT(fabsl(total - 1.0L) < 1e-12L); /* the model itself is consistent */
}

/* ------------------------------------------------------------------ policy */

static void
test_policy_check(void)
{
	struct laps_passgen_policy p;
	char *out = (char *)1;
	size_t len = 99;

	p = pw_policy(4, 7);
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "length 7"));
	CU_ASSERT_EQUAL(laps_passgen_generate(&p, &out, &len), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL(len, 0);
	p = pw_policy(4, 129);
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "length 129"));
	CU_ASSERT_EQUAL(laps_passgen_entropy_bits(&p), 0.0);
	p = pw_policy(4, 8);
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), 0);
	p = pw_policy(4, 128);
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), 0);
	p = pw_policy(0, 20);
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "complexity"));
	p = pw_policy(6, 20);
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	p = pw_policy(1, 20);
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), 0);
	p = pw_policy(5, 20);
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), 0);

	p = pp_policy(2, "-");
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "words 2"));
	p = pp_policy(11, "-");
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	p = pp_policy(3, "-");
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), 0);
	p = pp_policy(10, "");
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), 0);
	p = pp_policy(6, "+-=_");
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), 0);
	p = pp_policy(6, "12345"); /* 5 chars */
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	p = pp_policy(6, "x"); /* would make word boundaries ambiguous */
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	p = pp_policy(6, "\t");
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	p = pp_policy(6, "-");
	memset(p.separator, '-', sizeof(p.separator)); /* not terminated */
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	p = pp_policy(6, "-");
	p.mode = (enum laps_pwmode)7;
	CU_ASSERT_EQUAL(laps_passgen_policy_check(&p), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_passgen_policy_check(NULL), LAPS_ERR_INVALID);

	p = pw_policy(4, 20);
	CU_ASSERT_EQUAL(laps_passgen_generate(&p, NULL, &len), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_passgen_generate(&p, &out, NULL), LAPS_ERR_INVALID);
}

/* [password] alone: what laps_passgen_policy_from_config reads. */
static const struct laps_conf_section *const pw_sections[] = {&laps_password_section, NULL};
static const struct laps_conf_schema pw_schema = {{pw_sections}, NULL, 0};

static void
test_policy_from_config(void)
{
	struct laps_conf cfg;
	struct laps_passgen_policy p;
	char path[] = "/etc/laps/laps.conf", sep[8];

	CU_ASSERT_FATAL(laps_conf_init(&cfg, &pw_schema) == 0);
	cfg.path = path; /* borrowed: taken back before laps_conf_free */
	free(laps_password_conf(&cfg)->separator);
	laps_password_conf(&cfg)->mode = LAPS_PWMODE_PASSWORD;
	laps_password_conf(&cfg)->length = 20;
	laps_password_conf(&cfg)->complexity = 4;
	laps_password_conf(&cfg)->words = 6;
	laps_password_conf(&cfg)->separator = NULL; /* unset: the default "-" */
	memset(&p, 0xa5, sizeof(p));
	CU_ASSERT_EQUAL_FATAL(laps_passgen_policy_from_config(&cfg, &p), 0);
	CU_ASSERT_EQUAL(p.mode, LAPS_PWMODE_PASSWORD);
	CU_ASSERT_EQUAL(p.length, 20);
	CU_ASSERT_EQUAL(p.complexity, 4);
	CU_ASSERT_EQUAL(p.words, 6);
	CU_ASSERT_STRING_EQUAL(p.separator, "-");

	laps_password_conf(&cfg)->mode = LAPS_PWMODE_PASSPHRASE;
	laps_password_conf(&cfg)->words = 4;
	snprintf(sep, sizeof(sep), "%s", "");
	laps_password_conf(&cfg)->separator = sep;
	CU_ASSERT_EQUAL_FATAL(laps_passgen_policy_from_config(&cfg, &p), 0);
	CU_ASSERT_EQUAL(p.mode, LAPS_PWMODE_PASSPHRASE);
	CU_ASSERT_EQUAL(p.words, 4);
	CU_ASSERT_STRING_EQUAL(p.separator, "");

	snprintf(sep, sizeof(sep), "%s", "_+");
	CU_ASSERT_EQUAL_FATAL(laps_passgen_policy_from_config(&cfg, &p), 0);
	CU_ASSERT_STRING_EQUAL(p.separator, "_+");

	/* errors: LAPS_ERR_CONFIG naming the file and the section; p unchanged */
	snprintf(sep, sizeof(sep), "%s", "-----");
	CU_ASSERT_EQUAL(laps_passgen_policy_from_config(&cfg, &p), LAPS_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "/etc/laps/laps.conf"));
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "separator"));
	CU_ASSERT_STRING_EQUAL(p.separator, "_+");
	snprintf(sep, sizeof(sep), "%s", "and");
	CU_ASSERT_EQUAL(laps_passgen_policy_from_config(&cfg, &p), LAPS_ERR_CONFIG);
	laps_password_conf(&cfg)->words = 11;
	snprintf(sep, sizeof(sep), "%s", "-");
	CU_ASSERT_EQUAL(laps_passgen_policy_from_config(&cfg, &p), LAPS_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "[password] words 11"));
	laps_password_conf(&cfg)->mode = LAPS_PWMODE_PASSWORD;
	laps_password_conf(&cfg)->length = 7;
	CU_ASSERT_EQUAL(laps_passgen_policy_from_config(&cfg, &p), LAPS_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "[password] length 7"));
	CU_ASSERT_EQUAL(p.words, 4);
	CU_ASSERT_EQUAL(laps_passgen_policy_from_config(NULL, &p), LAPS_ERR_INVALID);
	cfg.path = NULL;
	laps_password_conf(&cfg)->separator = NULL;
	laps_conf_free(&cfg);
}

/* --------------------------------------------------------------- passwords */

/*
 * Every password: right length, NUL-terminated, only characters of the
 * preset, every class present; and over all draws every character of the
 * preset shows up.
 */
static void
test_password_classes(void)
{
	static const unsigned lengths[] = {8, 14, 128};
	const unsigned draws = 10000;
	struct t_alpha a;
	unsigned cx, li, d, bad_char = 0, bad_class = 0, bad_len = 0, missing = 0;

	for (cx = 1; cx <= NPRESETS; cx++) {
		t_alpha(cx, &a);
		for (li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
			struct laps_passgen_policy p = pw_policy(cx, lengths[li]);
			unsigned full = (1u << a.nclasses) - 1;
			unsigned char used[128];

			memset(used, 0, sizeof(used));
			for (d = 0; d < draws; d++) {
				char *pw = NULL;
				size_t len = 0, i;
				unsigned seen = 0;
				int idx;

				if (laps_passgen_generate(&p, &pw, &len) != 0 || pw == NULL) {
					CU_FAIL("laps_passgen_generate failed");
					return;
				}
				if (len != lengths[li] || strlen(pw) != len)
					bad_len++;
				for (i = 0; i < len; i++) {
					idx = a.index[(unsigned char)pw[i]];
					if (idx < 0) {
						bad_char++;
						continue;
					}
					used[idx] = 1;
					seen |= 1u << a.cls[idx];
				}
				if (seen != full)
					bad_class++;
				laps_secret_free(pw);
			}
			for (d = 0; d < a.n; d++)
				if (!used[d])
					missing++;
		}
	}
	CU_ASSERT_EQUAL(bad_len, 0);
	CU_ASSERT_EQUAL(bad_char, 0);
	CU_ASSERT_EQUAL(bad_class, 0);
	CU_ASSERT_EQUAL(missing, 0);
}

/*
 * Draw `draws` passwords and chi-square test (1) all characters pooled and
 * (2) position 0 and (3) the last position on their own, against the exact
 * distribution of a password drawn uniformly from the valid strings.
 * The pooled test is conservative (the at-least-one rule makes class counts
 * within a password less variable than multinomial); the per-position tests
 * use one independent sample per password and catch generators that put
 * the mandatory characters at fixed places.  Returns the pooled statistic.
 */
static double
chi2_passwords(unsigned cx, unsigned length, unsigned draws)
{
	struct laps_passgen_policy p = pw_policy(cx, length);
	struct t_alpha a;
	uint64_t pooled[128], first[128], last[128];
	double expect[128], x_pool, x_first, x_last, crit;
	unsigned d;
	size_t i;

	t_alpha(cx, &a);
	t_expected(&a, length, expect);
	memset(pooled, 0, sizeof(pooled));
	memset(first, 0, sizeof(first));
	memset(last, 0, sizeof(last));
	for (d = 0; d < draws; d++) {
		char *pw = NULL;
		size_t len = 0;

		if (laps_passgen_generate(&p, &pw, &len) != 0 || len != length) {
			CU_FAIL("laps_passgen_generate failed");
			laps_secret_free(pw);
			return -1.0;
		}
		for (i = 0; i < len; i++) {
			int idx = a.index[(unsigned char)pw[i]];

			CU_ASSERT_FATAL(idx >= 0);
			pooled[idx]++;
			if (i == 0)
				first[idx]++;
			if (i == len - 1)
				last[idx]++;
		}
		laps_secret_free(pw);
	}
	crit = chi2_crit999(a.n - 1);
	x_pool = chi2_stat(pooled, expect, a.n, (uint64_t)draws * length);
	x_first = chi2_stat(first, expect, a.n, draws);
	x_last = chi2_stat(last, expect, a.n, draws);
	fprintf(stderr,
		"complexity %u length %u: chi2 pooled %.1f first %.1f last %.1f (df %zu, 99.9%% "
		"%.1f)\n",
		cx, length, x_pool, x_first, x_last, a.n - 1, crit);
	CU_ASSERT(x_pool < crit);
	CU_ASSERT(x_first < crit);
	CU_ASSERT(x_last < crit);
	return x_pool;
}

static void
test_password_chisquare(void)
{
	unsigned cx;

	for (cx = 1; cx <= NPRESETS; cx++) {
		/* 12,500 x 8 = 100,000 characters; 800 x 128 = 102,400 */
		chi2_passwords(cx, 8, 12500);
		chi2_passwords(cx, 128, 800);
	}
}

/*
 * The test has teeth: (a) 200,000 characters picked with a modulo-biased
 * mapping (uniform byte % N, the classic mistake; for N = 64, which divides
 * 256, a uniform value in [0,1000) % N) are rejected while as many unbiased
 * draws pass; (b) at complexity 4, length 8, the generator's output is told
 * apart from "each character uniform over the alphabet" (digits and
 * symbols are over-represented in uniformly drawn valid strings).
 */
static void
test_chisquare_has_teeth(void)
{
	const uint64_t n = 100000, nb = 200000;
	struct t_alpha a;
	uint64_t obs[128];
	double uniform[128], expect[128], x, crit;
	unsigned cx, range;
	uint64_t i;

	for (cx = 1; cx <= NPRESETS; cx++) {
		t_alpha(cx, &a);
		crit = chi2_crit999(a.n - 1);
		for (i = 0; i < a.n; i++)
			uniform[i] = 1.0 / (double)a.n;
		range = (256 % a.n) != 0 ? 256 : 1000;
		memset(obs, 0, sizeof(obs));
		for (i = 0; i < nb; i++)
			obs[randombytes_uniform(range) % a.n]++;
		x = chi2_stat(obs, uniform, a.n, nb);
		fprintf(stderr,
			"complexity %u: modulo-biased (uniform [0,%u) %% %zu) chi2 %.1f (99.9%% "
			"%.1f)\n",
			cx, range, a.n, x, crit);
		CU_ASSERT(x > crit);

		/* the same number of unbiased draws passes */
		memset(obs, 0, sizeof(obs));
		for (i = 0; i < nb; i++)
			obs[randombytes_uniform((uint32_t)a.n)]++;
		x = chi2_stat(obs, uniform, a.n, nb);
		CU_ASSERT(x < crit);
	}

	/* complexity 4 at length 8: digits and symbols are over-represented */
	t_alpha(4, &a);
	t_expected(&a, 8, expect);
	CU_ASSERT(expect[a.index['0']] > 1.0 / 80 * 1.05);
	CU_ASSERT(expect[a.index['A']] < 1.0 / 80);
	memset(obs, 0, sizeof(obs));
	{
		struct laps_passgen_policy p = pw_policy(4, 8);

		for (i = 0; i < n / 8; i++) {
			char *pw = NULL;
			size_t len = 0, j;

			CU_ASSERT_FATAL(laps_passgen_generate(&p, &pw, &len) == 0);
			for (j = 0; j < len; j++)
				obs[a.index[(unsigned char)pw[j]]]++;
			laps_secret_free(pw);
		}
	}
	for (i = 0; i < a.n; i++)
		uniform[i] = 1.0 / (double)a.n;
	fprintf(
	    stderr,
	    "complexity 4 length 8: chi2 vs 1/N %.1f, vs uniform-over-valid %.1f (99.9%% %.1f)\n",
	    chi2_stat(obs, uniform, a.n, n), chi2_stat(obs, expect, a.n, n), chi2_crit999(a.n - 1));
	CU_ASSERT(chi2_stat(obs, uniform, a.n, n) > chi2_crit999(a.n - 1));
	CU_ASSERT(chi2_stat(obs, expect, a.n, n) < chi2_crit999(a.n - 1));
}

/* ------------------------------------------------------------------ entropy */

typedef unsigned __int128 u128;

static u128
u128_pow(u128 b, unsigned e)
{
	u128 r = 1;

	while (e--)
		r *= b;
	return r;
}

static double
u128_log2(u128 v)
{
	return log2((double)(uint64_t)(v >> 64) * 18446744073709551616.0 + (double)(uint64_t)v);
}

/* Exact count of valid strings with 128-bit integers (lengths where N^L < 2^128). */
static u128
exact_count(const struct t_alpha *a, unsigned length)
{
	u128 pos = 0, neg = 0;
	unsigned mask;
	size_t i, m, bits;

	for (mask = 0; mask < (1u << a->nclasses); mask++) {
		m = 0;
		bits = 0;
		for (i = 0; i < a->nclasses; i++)
			if (mask & (1u << i)) {
				m += a->size[i];
				bits++;
			}
		if (bits & 1)
			neg += u128_pow(a->n - m, length);
		else
			pos += u128_pow(a->n - m, length);
	}
	return pos - neg;
}

static void
test_entropy(void)
{
	struct laps_passgen_policy p;
	struct t_alpha a;
	unsigned cx, len;
	double e, top;

	/* hand-computed */
	p = pw_policy(1, 8);
	CU_ASSERT_DOUBLE_EQUAL(laps_passgen_entropy_bits(&p), 8 * log2(26.0), 1e-9);
	p = pw_policy(2, 8);
	CU_ASSERT_DOUBLE_EQUAL(laps_passgen_entropy_bits(&p),
			       log2(53459728531456.0 - 2.0 * 208827064576.0), 1e-9);
	/* 62^8 - 2*36^8 - 52^8 + 2*26^8 + 10^8 */
	p = pw_policy(3, 8);
	CU_ASSERT_DOUBLE_EQUAL(laps_passgen_entropy_bits(&p),
			       log2(218340105584896.0 - 2 * 2821109907456.0 - 53459728531456.0 +
				    2 * 208827064576.0 + 100000000.0),
			       1e-9);
	p = pp_policy(6, "-");
	CU_ASSERT_DOUBLE_EQUAL(laps_passgen_entropy_bits(&p), 6 * log2(7776.0), 1e-9);
	p = pp_policy(3, "");
	CU_ASSERT_DOUBLE_EQUAL(laps_passgen_entropy_bits(&p), 3 * log2(7776.0), 1e-9);
	p = pp_policy(10, "");
	CU_ASSERT_DOUBLE_EQUAL(laps_passgen_entropy_bits(&p), 10 * log2(7776.0), 1e-9);

	/* every preset, lengths 8..20, against exact 128-bit counts */
	for (cx = 1; cx <= NPRESETS; cx++) {
		t_alpha(cx, &a);
		for (len = 8; len <= 20; len++) {
			p = pw_policy(cx, len);
			CU_ASSERT_DOUBLE_EQUAL(laps_passgen_entropy_bits(&p),
					       u128_log2(exact_count(&a, len)), 1e-9);
		}
		/* length 128: finite, just below the unconstrained log2(N^128) */
		p = pw_policy(cx, 128);
		e = laps_passgen_entropy_bits(&p);
		top = 128 * log2((double)a.n);
		CU_ASSERT(isfinite(e));
		CU_ASSERT(e <= top + 1e-9);
		CU_ASSERT(e > top - 1e-6);
		/* and strictly below it at length 8 when there are several classes */
		p = pw_policy(cx, 8);
		if (a.nclasses > 1)
			CU_ASSERT(laps_passgen_entropy_bits(&p) < 8 * log2((double)a.n) - 0.01);
	}
}

static void
test_describe(void)
{
	struct laps_passgen_policy p;
	char buf[128], small[10];

	p = pw_policy(4, 20);
	CU_ASSERT_EQUAL_FATAL(laps_passgen_describe(&p, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "password, 20 chars, complexity 4 (A-Z a-z 0-9 symbols)");
	p = pw_policy(1, 8);
	CU_ASSERT_EQUAL_FATAL(laps_passgen_describe(&p, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "password, 8 chars, complexity 1 (A-Z)");
	p = pw_policy(5, 14);
	CU_ASSERT_EQUAL_FATAL(laps_passgen_describe(&p, buf, sizeof(buf)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "complexity 5 (readable"));
	p = pp_policy(6, "");
	CU_ASSERT_EQUAL_FATAL(laps_passgen_describe(&p, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "passphrase, 6 words, capitalised and joined");
	p = pp_policy(5, "-");
	CU_ASSERT_EQUAL_FATAL(laps_passgen_describe(&p, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "passphrase, 5 words, separator \"-\"");
	CU_ASSERT_EQUAL(laps_passgen_describe(&p, small, sizeof(small)), LAPS_ERR_TOOBIG);
	p = pw_policy(4, 7);
	CU_ASSERT_EQUAL(laps_passgen_describe(&p, buf, sizeof(buf)), LAPS_ERR_INVALID);
}

/* ---------------------------------------------------------------- word list */

static const char **sorted_words;
static size_t n_sorted;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Index of w in the word list (via the sorted copy), or -1. */
static long
word_index(const char *w)
{
	const char **hit;

	hit = bsearch(&w, sorted_words, n_sorted, sizeof(*sorted_words), cmp_str);
	if (hit == NULL)
		return -1;
	return (long)(hit - sorted_words);
}

static int
words_setup(void)
{
	size_t i;

	n_sorted = laps_wordlist_size();
	sorted_words = calloc(n_sorted, sizeof(*sorted_words));
	if (sorted_words == NULL)
		return -1;
	for (i = 0; i < n_sorted; i++)
		sorted_words[i] = laps_wordlist_word(i);
	qsort(sorted_words, n_sorted, sizeof(*sorted_words), cmp_str);
	return 0;
}

static int
words_teardown(void)
{
	free(sorted_words);
	sorted_words = NULL;
	return 0;
}

static void
test_wordlist(void)
{
	size_t n = laps_wordlist_size(), i, j, dups = 0, bad = 0, maxlen = 0;

	CU_ASSERT(n >= EFF_WORDS);
	CU_ASSERT_EQUAL(n, EFF_WORDS);
	CU_ASSERT_PTR_NULL(laps_wordlist_word(n));
	for (i = 0; i < n; i++) {
		const char *w = laps_wordlist_word(i);

		CU_ASSERT_PTR_NOT_NULL_FATAL(w);
		if (w[0] == '\0')
			bad++;
		for (j = 0; w[j] != '\0'; j++)
			if (w[j] < 'a' || w[j] > 'z')
				bad++;
		if (j > maxlen)
			maxlen = j;
	}
	for (i = 1; i < n_sorted; i++)
		if (strcmp(sorted_words[i - 1], sorted_words[i]) == 0)
			dups++;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(dups, 0);
	CU_ASSERT(maxlen <= 9);
	CU_ASSERT_STRING_EQUAL(laps_wordlist_word(0), "abacus");
	CU_ASSERT_STRING_EQUAL(laps_wordlist_word(n - 1), "zoom");
}

static bool
is_lower_ascii(const char *w)
{
	size_t j;

	for (j = 0; w[j] != '\0'; j++)
		if (w[j] < 'a' || w[j] > 'z')
			return false;
	return j > 0;
}

/*
 * The embedded list follows data/wordlist/eff_large_wordlist.txt line by
 * line, and differs from it only where the original is not lowercase ASCII
 * (the four words data/wordlist/README.md lists).  The exact list is the
 * generator's (mkwordlist.awk); tests/wordlist.sh compares word for word.
 */
static void
test_wordlist_follows_source(void)
{
	const char *path = laps_test_srcpath("data/wordlist/eff_large_wordlist.txt");
	char line[128];
	size_t i = 0, changed = 0, unexplained = 0;
	FILE *f;

	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *tab = strchr(line, '\t'), *nl;
		const char *w;

		CU_ASSERT_PTR_NOT_NULL_FATAL(tab);
		if ((nl = strchr(tab, '\n')) != NULL)
			*nl = '\0';
		*tab = '\0';
		CU_ASSERT_EQUAL(strlen(line), 5); /* the dice rolls */
		w = laps_wordlist_word(i);
		CU_ASSERT_PTR_NOT_NULL_FATAL(w);
		if (strcmp(w, tab + 1) != 0) {
			changed++;
			if (is_lower_ascii(tab + 1))
				unexplained++;
		}
		i++;
	}
	fclose(f);
	CU_ASSERT_EQUAL(i, laps_wordlist_size());
	CU_ASSERT_EQUAL(changed, 4);
	CU_ASSERT_EQUAL(unexplained, 0);
}

/* -------------------------------------------------------------- passphrases */

/*
 * Split a passphrase into words.  Returns the number of words, or -1 when
 * the shape is wrong (capitalisation, empty word, unknown word).  idx gets
 * each word's index in the sorted list.
 */
static int
split_passphrase(const char *s, const char *sep, long *idx, int max)
{
	char word[32];
	size_t seplen = strlen(sep), wl;
	const char *end;
	int n = 0;

	while (*s != '\0') {
		if (n == max)
			return -1;
		if (seplen > 0) {
			end = strstr(s, sep);
			if (end == NULL)
				end = s + strlen(s);
			wl = (size_t)(end - s);
		} else {
			if (*s < 'A' || *s > 'Z')
				return -1;
			for (wl = 1; s[wl] >= 'a' && s[wl] <= 'z'; wl++)
				;
			end = s + wl;
		}
		if (wl == 0 || wl >= sizeof(word))
			return -1;
		memcpy(word, s, wl);
		word[wl] = '\0';
		if (seplen == 0)
			word[0] = (char)(word[0] - 'A' + 'a');
		if ((idx[n] = word_index(word)) < 0)
			return -1;
		n++;
		s = end;
		if (seplen > 0 && *s != '\0') {
			s += seplen;
			if (*s == '\0')
				return -1; /* trailing separator */
		}
	}
	return n;
}

static void
test_passphrase_shape(void)
{
	static const char *const seps[] = {"", "-", " ", "_+", ".", "1234"};
	unsigned words, si, d, bad = 0;
	long idx[16];

	for (words = 3; words <= 10; words++) {
		for (si = 0; si < sizeof(seps) / sizeof(seps[0]); si++) {
			struct laps_passgen_policy p = pp_policy(words, seps[si]);

			for (d = 0; d < 300; d++) {
				char *pp = NULL;
				size_t len = 0;
				int n;

				if (laps_passgen_generate(&p, &pp, &len) != 0) {
					CU_FAIL("laps_passgen_generate failed");
					return;
				}
				n = split_passphrase(pp, seps[si], idx, 16);
				if (n != (int)words || strlen(pp) != len)
					bad++;
				if (seps[si][0] != '\0' && (pp[0] < 'a' || pp[0] > 'z'))
					bad++; /* lowercase when a separator is set */
				laps_secret_free(pp);
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);

	/* the split really checks: a wrong word, separator or case is refused */
	CU_ASSERT_EQUAL(split_passphrase("CorrectZoomBatteryStaple", "", idx, 16), 4);
	CU_ASSERT_EQUAL(split_passphrase("correct-zoom-battery", "-", idx, 16), 3);
	CU_ASSERT_EQUAL(split_passphrase("correctZoomBatteryStaple", "", idx, 16), -1);
	CU_ASSERT_EQUAL(split_passphrase("correct-zoom-batteryx", "-", idx, 16), -1);
	CU_ASSERT_EQUAL(split_passphrase("correct-zoom-", "-", idx, 16), -1);
}

/* Word choice is uniform: chi-square over the 7,776 words. */
static void
test_passphrase_chisquare(void)
{
	struct laps_passgen_policy p = pp_policy(8, "-");
	const unsigned draws = 15000; /* x 8 words = 120,000 words, ~15 per word */
	uint64_t *obs = calloc(n_sorted, sizeof(*obs));
	double *expect = calloc(n_sorted, sizeof(*expect)), x, crit;
	long idx[16];
	unsigned d;
	size_t i;
	int n, k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(obs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(expect);
	for (i = 0; i < n_sorted; i++)
		expect[i] = 1.0 / (double)n_sorted;
	for (d = 0; d < draws; d++) {
		char *pp = NULL;
		size_t len;

		CU_ASSERT_FATAL(laps_passgen_generate(&p, &pp, &len) == 0);
		n = split_passphrase(pp, "-", idx, 16);
		laps_secret_free(pp);
		CU_ASSERT_FATAL(n == 8);
		for (k = 0; k < n; k++)
			obs[idx[k]]++;
	}
	x = chi2_stat(obs, expect, n_sorted, (uint64_t)draws * 8);
	crit = chi2_crit999(n_sorted - 1);
	fprintf(stderr, "words: chi2 %.1f (df %zu, 99.9%% %.1f)\n", x, n_sorted - 1, crit);
	CU_ASSERT(x < crit);
	free(obs);
	free(expect);
}

/* ------------------------------------------------------------ determinism */

static void
test_reproducible(void)
{
	struct laps_passgen_policy p = pw_policy(4, 32);
	char *a = NULL, *b = NULL, *c = NULL;
	size_t la, lb, lc;

	laps_test_random_reseed(42);
	CU_ASSERT_FATAL(laps_passgen_generate(&p, &a, &la) == 0);
	laps_test_random_reseed(42);
	CU_ASSERT_FATAL(laps_passgen_generate(&p, &b, &lb) == 0);
	laps_test_random_reseed(43);
	CU_ASSERT_FATAL(laps_passgen_generate(&p, &c, &lc) == 0);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	laps_secret_free(a);
	laps_secret_free(b);
	laps_secret_free(c);
}

static CU_TestInfo policy_tests[] = {
    {"policy_check", test_policy_check},
    {"policy_from_config", test_policy_from_config},
    {"describe", test_describe},
    {"entropy", test_entropy},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo password_tests[] = {
    {"classes", test_password_classes},
    {"chisquare", test_password_chisquare},
    {"chisquare_has_teeth", test_chisquare_has_teeth},
    {"reproducible", test_reproducible},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo passphrase_tests[] = {
    {"wordlist", test_wordlist},
    {"wordlist_follows_source", test_wordlist_follows_source},
    {"shape", test_passphrase_shape},
    {"chisquare", test_passphrase_chisquare},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"passgen_policy", NULL, NULL, NULL, NULL, policy_tests},
    {"passgen_password", NULL, NULL, NULL, NULL, password_tests},
    {"passgen_passphrase", words_setup, words_teardown, NULL, NULL, passphrase_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	laps_test_random_deterministic(TEST_SEED);
	if (laps_crypto_init() != 0)
		return 99;
	return laps_test_main(argc, argv, suites);
}
