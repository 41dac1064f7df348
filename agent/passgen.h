/*
 * passgen.h — password and passphrase generation.
 *
 * Passwords: character presets matching Windows LAPS PasswordComplexity
 *   1 A-Z; 2 A-Z a-z; 3 A-Z a-z 0-9; 4 A-Z a-z 0-9 symbols;
 *   5 "readable": upper, lower, digits, symbols without easily confused
 *     characters (I O Q l o 0 1 and look-alike symbols);
 * length 8..128, at least one character of every selected class, every
 * choice unbiased (randombytes_uniform).
 * Passphrases: 3..10 words from the shipped word list (>= 7,776 words),
 * capitalised and joined, or joined with a separator.
 */
#ifndef LAPS_PASSGEN_H
#define LAPS_PASSGEN_H

#include <stddef.h>

#include "escrow/conf.h"
#include "agent/agent_conf.h"

struct laps_passgen_policy {
	enum laps_pwmode mode;
	unsigned length;     /* password: 8..128 */
	unsigned complexity; /* password: 1..5 */
	unsigned words;      /* passphrase: 3..10 */
	char separator[8];   /* passphrase: "" = capitalised and joined */
};

/* Policy from [password].  LAPS_ERR_CONFIG when out of range. */
int laps_passgen_policy_from_config(const struct laps_conf *cfg, struct laps_passgen_policy *p)
    __attribute__((warn_unused_result));
/* Validate ranges.  0 or LAPS_ERR_INVALID with detail. */
int laps_passgen_policy_check(const struct laps_passgen_policy *p)
    __attribute__((warn_unused_result));

/*
 * Generate one password/passphrase.  *out is NUL-terminated locked memory
 * (laps_secret_free); *len its length.
 */
int laps_passgen_generate(const struct laps_passgen_policy *p, char **out, size_t *len)
    __attribute__((warn_unused_result));

/* Entropy in bits of the policy (exact count of the generator's output
 * space: log2 of the number of distinct outputs it can produce, accounting
 * for the at-least-one-of-each-class rule). */
double laps_passgen_entropy_bits(const struct laps_passgen_policy *p);

/* One-line human description, e.g. "password, 20 chars, complexity 4 (A-Z a-z 0-9 symbols)". */
int laps_passgen_describe(const struct laps_passgen_policy *p, char *buf, size_t len)
    __attribute__((warn_unused_result));

/* The word list: number of words, and word i (0-based). */
size_t laps_wordlist_size(void);
const char *laps_wordlist_word(size_t i);

#endif
