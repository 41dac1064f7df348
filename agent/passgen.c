/*
 * passgen.c — password and passphrase generation.
 *
 * Password presets (Windows LAPS "PasswordComplexity", as documented by
 * Microsoft in "Windows LAPS passwords and passphrases"):
 *
 *   1  A-Z                        ABCDEFGHIJKLMNOPQRSTUVWXYZ                (26)
 *   2  A-Z a-z                    + abcdefghijklmnopqrstuvwxyz              (52)
 *   3  A-Z a-z 0-9                + 0123456789                              (62)
 *   4  A-Z a-z 0-9 symbols        + ,.-+;!#&@{}[]$/()%                      (80)
 *   5  readable: four classes without easily confused characters       (64)
 *        ABCDEFGHJKLMNPRSTUVWXYZ   (no I O Q)                            (23)
 *        abcdefghijkmnpqrstuvwxyz  (no l o)                              (24)
 *        23456789                  (no 0 1)                               (8)
 *        !#%+@:=?*                 (no , . & { } [ ] ( ) ; and with : = ? *) (9)
 *
 * Every password contains at least one character of every class of its
 * preset.  Generation is by rejection sampling: each of the `length`
 * characters is drawn independently and uniformly from the preset's whole
 * alphabet with randombytes_uniform() (no modulo bias), and a password that
 * misses a class is discarded and drawn again.  The accepted passwords are
 * therefore exactly uniformly distributed over the set of valid strings
 * (those containing every class).  The alternative — placing one mandatory
 * character of each class at a random position and filling the rest — is
 * not uniform over that set (strings with several digits are under-weighted
 * relative to their count), so its entropy would be lower than the count
 * suggests.  The expected number of draws is at most 2.46 (complexity 5,
 * length 8; 2.03 for complexity 4, length 8) and falls quickly with the
 * length (1.13 at complexity 5, length 20).
 *
 * Entropy is log2 of the number of valid strings, by inclusion-exclusion
 * over the classes:  #valid = sum over subsets S of classes of
 * (-1)^|S| (N - |S chars|)^L.  It is evaluated as
 *   L log2 N + log2( sum_S (-1)^|S| (1 - |S chars|/N)^L )
 * in long double: every term is in [0, 1], so nothing overflows at L = 128.
 * The power (an integer exponent) and log2 are computed here, not with
 * libm's powl/log2l: linking libm costs every agent run ~320 KiB of
 * resident pages (its IFUNC resolvers are run at load time) for a figure
 * only `laps-agent show` prints.
 *
 * Passphrases: `words` words drawn uniformly (randombytes_uniform) from the
 * embedded EFF large word list (agent/wordlist.c, 7,776 lowercase ASCII
 * words).  With an empty separator every word is capitalised and the words
 * are joined ("CorrectHorseBatteryStaple"); otherwise the lowercase words
 * are joined with the separator (1..4 printable ASCII characters, none of
 * them a-z, so a passphrase splits back into its words in exactly one way
 * and the entropy is exactly words * log2(7776)).
 */
#include "config.h"

#include <math.h> /* frexpl: in libc, not libm */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agent/passgen.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"

#define PASSGEN_LENGTH_MIN 8
#define PASSGEN_LENGTH_MAX 128
#define PASSGEN_COMPLEXITY_MIN 1
#define PASSGEN_COMPLEXITY_MAX 5
#define PASSGEN_WORDS_MIN 3
#define PASSGEN_WORDS_MAX 10
#define PASSGEN_SEPARATOR_MAX 4
#define PASSGEN_CLASSES_MAX 4
#define PASSGEN_ALPHABET_MAX 96
/* The longest word of the embedded list is 9 letters (checked by a test). */
#define PASSGEN_WORD_MAX 16
/*
 * Rejection sampling gives up after this many draws.  The worst acceptance
 * rate is 0.407 (complexity 5, length 8): 0.593^1000 ~ 1e-227, so this only
 * fires when the random source is broken (e.g. stuck).
 */
#define PASSGEN_MAX_TRIES 1000

static const char CLASS_UPPER[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char CLASS_LOWER[] = "abcdefghijklmnopqrstuvwxyz";
static const char CLASS_DIGIT[] = "0123456789";
static const char CLASS_SYMBOL[] = ",.-+;!#&@{}[]$/()%";
static const char CLASS_UPPER_READABLE[] = "ABCDEFGHJKLMNPRSTUVWXYZ";
static const char CLASS_LOWER_READABLE[] = "abcdefghijkmnpqrstuvwxyz";
static const char CLASS_DIGIT_READABLE[] = "23456789";
static const char CLASS_SYMBOL_READABLE[] = "!#%+@:=?*";

struct passgen_preset {
	const char *desc;
	size_t nclasses;
	const char *classes[PASSGEN_CLASSES_MAX];
};

/* Indexed by complexity - 1. */
static const struct passgen_preset passgen_presets[PASSGEN_COMPLEXITY_MAX] = {
    {"A-Z", 1, {CLASS_UPPER, NULL, NULL, NULL}},
    {"A-Z a-z", 2, {CLASS_UPPER, CLASS_LOWER, NULL, NULL}},
    {"A-Z a-z 0-9", 3, {CLASS_UPPER, CLASS_LOWER, CLASS_DIGIT, NULL}},
    {"A-Z a-z 0-9 symbols", 4, {CLASS_UPPER, CLASS_LOWER, CLASS_DIGIT, CLASS_SYMBOL}},
    {"readable A-Z a-z 2-9 symbols, without I O Q l o 0 1",
     4,
     {CLASS_UPPER_READABLE, CLASS_LOWER_READABLE, CLASS_DIGIT_READABLE, CLASS_SYMBOL_READABLE}},
};

/* The preset's alphabet and, for each of its characters, its class. */
struct passgen_alphabet {
	char chars[PASSGEN_ALPHABET_MAX];
	unsigned char cls[PASSGEN_ALPHABET_MAX];
	size_t size;
	size_t class_size[PASSGEN_CLASSES_MAX];
	size_t nclasses;
};

static void
passgen_alphabet_build(unsigned complexity, struct passgen_alphabet *a)
{
	const struct passgen_preset *pr = &passgen_presets[complexity - 1];
	size_t i, j, n;

	memset(a, 0, sizeof(*a));
	a->nclasses = pr->nclasses;
	for (i = 0; i < pr->nclasses; i++) {
		n = strlen(pr->classes[i]);
		a->class_size[i] = n;
		for (j = 0; j < n; j++) {
			a->chars[a->size] = pr->classes[i][j];
			a->cls[a->size] = (unsigned char)i;
			a->size++;
		}
	}
}

/* The separator, if it is NUL-terminated within the field; else NULL. */
static const char *
passgen_separator(const struct laps_passgen_policy *p)
{
	if (memchr(p->separator, '\0', sizeof(p->separator)) == NULL)
		return NULL;
	return p->separator;
}

int
laps_passgen_policy_check(const struct laps_passgen_policy *p)
{
	const char *sep;
	size_t i, n;

	if (p == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "no password policy");
	switch (p->mode) {
	case LAPS_PWMODE_PASSWORD:
		if (p->length < PASSGEN_LENGTH_MIN || p->length > PASSGEN_LENGTH_MAX)
			return laps_seterr(LAPS_ERR_INVALID, "length %u out of range %d..%d",
					   p->length, PASSGEN_LENGTH_MIN, PASSGEN_LENGTH_MAX);
		if (p->complexity < PASSGEN_COMPLEXITY_MIN ||
		    p->complexity > PASSGEN_COMPLEXITY_MAX)
			return laps_seterr(LAPS_ERR_INVALID, "complexity %u out of range %d..%d",
					   p->complexity, PASSGEN_COMPLEXITY_MIN,
					   PASSGEN_COMPLEXITY_MAX);
		return 0;
	case LAPS_PWMODE_PASSPHRASE:
		if (p->words < PASSGEN_WORDS_MIN || p->words > PASSGEN_WORDS_MAX)
			return laps_seterr(LAPS_ERR_INVALID, "words %u out of range %d..%d",
					   p->words, PASSGEN_WORDS_MIN, PASSGEN_WORDS_MAX);
		if ((sep = passgen_separator(p)) == NULL ||
		    (n = strlen(sep)) > PASSGEN_SEPARATOR_MAX)
			return laps_seterr(LAPS_ERR_INVALID, "separator longer than %d characters",
					   PASSGEN_SEPARATOR_MAX);
		for (i = 0; i < n; i++) {
			if (sep[i] < 0x20 || sep[i] > 0x7e)
				return laps_seterr(LAPS_ERR_INVALID,
						   "separator must be printable ASCII");
			if (sep[i] >= 'a' && sep[i] <= 'z')
				return laps_seterr(LAPS_ERR_INVALID,
						   "separator must not contain lowercase "
						   "letters (words are lowercase)");
		}
		return 0;
	}
	return laps_seterr(LAPS_ERR_INVALID, "unknown password mode %d", (int)p->mode);
}

int
laps_passgen_policy_from_config(const struct laps_conf *cfg, struct laps_passgen_policy *p)
{
	struct laps_passgen_policy tmp;
	const char *sep;
	size_t n;
	int rc;

	if (cfg == NULL || p == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "no configuration");
	memset(&tmp, 0, sizeof(tmp));
	tmp.mode = laps_password_conf(cfg)->mode;
	tmp.length = laps_password_conf(cfg)->length;
	tmp.complexity = laps_password_conf(cfg)->complexity;
	tmp.words = laps_password_conf(cfg)->words;
	sep = laps_password_conf(cfg)->separator != NULL ? laps_password_conf(cfg)->separator
							 : "-"; /* the documented default */
	if ((n = strlen(sep)) > PASSGEN_SEPARATOR_MAX)
		return laps_seterr(
		    LAPS_ERR_CONFIG, "%s: [password] separator: longer than %d characters",
		    cfg->path != NULL ? cfg->path : "laps.conf", PASSGEN_SEPARATOR_MAX);
	memcpy(tmp.separator, sep, n + 1);
	if ((rc = laps_passgen_policy_check(&tmp)) < 0) {
		return laps_seterr(LAPS_ERR_CONFIG, "%s: [password] %s",
				   cfg->path != NULL ? cfg->path : "laps.conf", laps_errdetail());
	}
	*p = tmp;
	return 0;
}

/* x^e, e >= 0, by squaring: at most 2 * 7 roundings for e <= 128. */
static long double
pow_uint(long double x, unsigned e)
{
	long double r = 1.0L;

	while (e != 0) {
		if (e & 1u)
			r *= x;
		x *= x;
		e >>= 1;
	}
	return r;
}

/* log2(x) for x > 0: x = m 2^e with m in [1/sqrt 2, sqrt 2) (frexpl is in
 * libc), ln m = 2 atanh t, t = (m - 1) / (m + 1), |t| < 0.172: the series
 * t + t^3/3 + ... is below long double precision after 13 terms; 30 is a
 * wide margin. */
static long double
log2_pos(long double x)
{
	const long double ln2 = 0.693147180559945309417232121458176568L;
	const long double sqrt_half = 0.707106781186547524400844362104849039L;
	long double m, t, t2, p, sum = 0.0L;
	int e, k;

	m = frexpl(x, &e); /* m in [0.5, 1) */
	if (m < sqrt_half) {
		m *= 2.0L;
		e--;
	}
	t = (m - 1.0L) / (m + 1.0L);
	t2 = t * t;
	p = t;
	for (k = 1; k < 60; k += 2) {
		sum += p / (long double)k;
		p *= t2;
	}
	return (long double)e + 2.0L * sum / ln2;
}

/*
 * log2 of the number of length-L strings over the alphabet that contain
 * every class at least once (see the comment at the top).
 */
static double
passgen_password_entropy(const struct passgen_alphabet *a, unsigned length)
{
	long double n = (long double)a->size, sum = 0.0L, term;
	unsigned mask, full = (1u << a->nclasses) - 1, bits;
	size_t i, m;

	for (mask = 0; mask <= full; mask++) {
		m = 0;
		bits = 0;
		for (i = 0; i < a->nclasses; i++) {
			if (mask & (1u << i)) {
				m += a->class_size[i];
				bits++;
			}
		}
		term = pow_uint((n - (long double)m) / n, length);
		sum += (bits & 1) ? -term : term;
	}
	if (!(sum > 0.0L))
		return 0.0; /* cannot happen for length >= number of classes */
	return (double)((long double)length * log2_pos(n) + log2_pos(sum));
}

double
laps_passgen_entropy_bits(const struct laps_passgen_policy *p)
{
	struct passgen_alphabet a;

	if (laps_passgen_policy_check(p) < 0)
		return 0.0;
	if (p->mode == LAPS_PWMODE_PASSPHRASE)
		return (double)((long double)p->words *
				log2_pos((long double)laps_wordlist_size()));
	passgen_alphabet_build(p->complexity, &a);
	return passgen_password_entropy(&a, p->length);
}

int
laps_passgen_describe(const struct laps_passgen_policy *p, char *buf, size_t len)
{
	int n, rc;

	if (buf == NULL || len == 0)
		return laps_seterr(LAPS_ERR_INVALID, "no buffer");
	buf[0] = '\0';
	if ((rc = laps_passgen_policy_check(p)) < 0)
		return rc;
	if (p->mode == LAPS_PWMODE_PASSWORD)
		n = snprintf(buf, len, "password, %u chars, complexity %u (%s)", p->length,
			     p->complexity, passgen_presets[p->complexity - 1].desc);
	else if (p->separator[0] == '\0')
		n = snprintf(buf, len, "passphrase, %u words, capitalised and joined", p->words);
	else
		n = snprintf(buf, len, "passphrase, %u words, separator \"%s\"", p->words,
			     p->separator);
	if (n < 0 || (size_t)n >= len)
		return laps_seterr(LAPS_ERR_TOOBIG, "description longer than %zu bytes", len);
	return 0;
}

/* Fill out[0..length-1] (out has length + 1 bytes). */
static int
passgen_password(const struct laps_passgen_policy *p, char *out)
{
	struct passgen_alphabet a;
	unsigned seen = 0, full, tries;
	uint32_t r = 0;
	size_t i;
	int rc = LAPS_ERR_INTERNAL;

	passgen_alphabet_build(p->complexity, &a);
	full = (1u << a.nclasses) - 1;
	for (tries = 0; tries < PASSGEN_MAX_TRIES; tries++) {
		seen = 0;
		for (i = 0; i < p->length; i++) {
			r = randombytes_uniform((uint32_t)a.size);
			out[i] = a.chars[r];
			seen |= 1u << a.cls[r];
		}
		if (seen == full) {
			out[p->length] = '\0';
			rc = 0;
			goto out;
		}
	}
	laps_wipe(out, p->length);
	rc = laps_seterr(LAPS_ERR_INTERNAL,
			 "password generation: %u draws rejected; random source broken?", tries);
out:
	laps_wipe(&r, sizeof(r));
	laps_wipe(&seen, sizeof(seen));
	return rc;
}

/* Write the passphrase into out (cap bytes); *len its length. */
static int
passgen_passphrase(const struct laps_passgen_policy *p, char *out, size_t cap, size_t *len)
{
	size_t nwords = laps_wordlist_size(), seplen = strlen(p->separator), off = 0, wl, i;
	const char *w;
	uint32_t r = 0;
	int rc = LAPS_ERR_INTERNAL;

	if (nwords < 2 || nwords > UINT32_MAX) {
		rc = laps_seterr(LAPS_ERR_INTERNAL, "word list has %zu words", nwords);
		goto out;
	}
	for (i = 0; i < p->words; i++) {
		r = randombytes_uniform((uint32_t)nwords);
		if ((w = laps_wordlist_word(r)) == NULL || (wl = strlen(w)) == 0 ||
		    wl > PASSGEN_WORD_MAX) {
			rc = laps_seterr(LAPS_ERR_INTERNAL, "bad word list entry");
			goto out;
		}
		if (i > 0) {
			if (off + seplen >= cap)
				goto toolong;
			memcpy(out + off, p->separator, seplen);
			off += seplen;
		}
		if (off + wl >= cap)
			goto toolong;
		memcpy(out + off, w, wl);
		if (seplen == 0 && out[off] >= 'a' && out[off] <= 'z')
			out[off] = (char)(out[off] - 'a' + 'A');
		off += wl;
	}
	out[off] = '\0';
	*len = off;
	rc = 0;
	goto out;
toolong:
	rc = laps_seterr(LAPS_ERR_INTERNAL, "passphrase longer than %zu bytes", cap);
out:
	if (rc < 0)
		laps_wipe(out, cap);
	laps_wipe(&r, sizeof(r));
	return rc;
}

int
laps_passgen_generate(const struct laps_passgen_policy *p, char **out, size_t *len)
{
	char *buf = NULL;
	size_t cap, n = 0;
	int rc;

	if (out == NULL || len == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "no output");
	*out = NULL;
	*len = 0;
	if ((rc = laps_passgen_policy_check(p)) < 0)
		return rc;
	if ((rc = laps_crypto_init()) < 0)
		return rc;
	if (p->mode == LAPS_PWMODE_PASSWORD)
		cap = (size_t)p->length + 1;
	else
		cap = (size_t)p->words * (PASSGEN_WORD_MAX + PASSGEN_SEPARATOR_MAX) + 1;
	if ((buf = laps_secret_alloc(cap)) == NULL) {
		rc = laps_seterr(LAPS_ERR_NOMEM, "locked memory for the password");
		goto out;
	}
	if (p->mode == LAPS_PWMODE_PASSWORD) {
		if ((rc = passgen_password(p, buf)) < 0)
			goto out;
		n = p->length;
	} else if ((rc = passgen_passphrase(p, buf, cap, &n)) < 0) {
		goto out;
	}
	/* success */
	*out = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	laps_secret_free(buf);
	return rc;
}
