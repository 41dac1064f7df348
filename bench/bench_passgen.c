/*
 * bench_passgen.c — generations per second for each password preset and
 * a few passphrase shapes.  Prints numbers; asserts nothing.
 *
 * Usage: bench_passgen [seconds-per-case]   (default 0.5)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/passgen.h"
#include "escrow/err.h"
#include "escrow/secret.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
run(const struct laps_passgen_policy *p, double budget)
{
	char desc[128], err[256];
	double t0, t;
	unsigned long n = 0;
	int rc;

	if ((rc = laps_passgen_describe(p, desc, sizeof(desc))) < 0) {
		fprintf(stderr, "bench_passgen: %s\n", laps_errstr(rc, err, sizeof(err)));
		return 1;
	}
	t0 = now();
	do {
		unsigned i;

		for (i = 0; i < 256; i++) {
			char *out = NULL;
			size_t len;

			if ((rc = laps_passgen_generate(p, &out, &len)) < 0) {
				fprintf(stderr, "bench_passgen: %s\n",
					laps_errstr(rc, err, sizeof(err)));
				return 1;
			}
			laps_secret_free(out);
		}
		n += 256;
		t = now() - t0;
	} while (t < budget);
	printf("%-72s %10.0f /s  (%.1f bits)\n", desc, (double)n / t, laps_passgen_entropy_bits(p));
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned lengths[] = {8, 20, 64, 128};
	static const char *const seps[] = {"", "-"};
	struct laps_passgen_policy p;
	double budget = 0.5;
	unsigned cx, i;
	int rc = 0;

	if (argc > 1) {
		char *end = NULL;

		budget = strtod(argv[1], &end);
		if (end == argv[1] || *end != '\0' || !(budget > 0.0) || budget > 60.0) {
			fprintf(stderr, "usage: bench_passgen [seconds-per-case (0..60]]\n");
			return 2;
		}
	}
	if (laps_crypto_init() < 0) {
		fprintf(stderr, "bench_passgen: libsodium initialisation failed\n");
		return 1;
	}
	for (cx = 1; cx <= 5; cx++) {
		for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
			memset(&p, 0, sizeof(p));
			p.mode = LAPS_PWMODE_PASSWORD;
			p.complexity = cx;
			p.length = lengths[i];
			rc |= run(&p, budget);
		}
	}
	for (i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.mode = LAPS_PWMODE_PASSPHRASE;
		p.words = 6;
		snprintf(p.separator, sizeof(p.separator), "%s", seps[i]);
		rc |= run(&p, budget);
	}
	return rc;
}
