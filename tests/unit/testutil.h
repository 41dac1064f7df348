/*
 * testutil.h — shared helpers for the CUnit test programs.
 */
#ifndef LAPS_TESTUTIL_H
#define LAPS_TESTUTIL_H

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Register suites, run them in basic mode (prints CUnit's "Run Summary"),
 * and return the process exit status: 0 when every test passed, 1 when any
 * test or assertion failed (CU_get_error() alone would say 0), 99 when the
 * framework itself failed.  Use as: return laps_test_main(argc, argv, suites);
 * argv[1], if given, runs only the suite of that name.
 */
int laps_test_main(int argc, char **argv, CU_SuiteInfo *suites);

/*
 * Deterministic randomness: installs a libsodium randombytes implementation
 * (ChaCha20 keystream from a 32-byte seed) so tests can reproduce exact
 * outputs.  Must be called before the first sodium_init()/laps_crypto_init().
 * laps_test_random_reseed() restarts the stream from a new seed.
 */
void laps_test_random_deterministic(uint64_t seed);
void laps_test_random_reseed(uint64_t seed);

/*
 * Suite fixture for CU_SuiteInfo's init/cleanup: libsodium initialised and
 * a fresh temporary directory in laps_test_dir, removed afterwards.
 */
extern char laps_test_dir[4096];
int laps_test_suite_init(void);
int laps_test_suite_cleanup(void);

/* A fresh private temporary directory (mkdtemp under $TMPDIR or /tmp);
 * returns a static buffer valid until the next call.  Aborts the test run
 * on failure (tests only). */
const char *laps_test_tmpdir(void);
/* rm -rf dir (nftw); for test cleanup. */
void laps_test_rmrf(const char *dir);
/* Write a file with mode; returns 0 or -1. */
int laps_test_write_file(const char *path, const char *content, unsigned mode);
/* Path of a file under $top_srcdir (or "." if unset) into a static buffer. */
const char *laps_test_srcpath(const char *rel);

#endif
