/*
 * testutil.c — CUnit main, deterministic randomness, temp dirs.
 */
#include "config.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tests/unit/testutil.h"

int
laps_test_main(int argc, char **argv, CU_SuiteInfo *suites)
{
	unsigned failed_tests, failed_asserts, run;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: cannot initialise the registry\n");
		return 99;
	}
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: cannot register suites: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 99;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (argc > 1) {
		if ((s = CU_get_suite(argv[1])) == NULL) {
			fprintf(stderr, "no suite named '%s'\n", argv[1]);
			CU_cleanup_registry();
			return 99;
		}
		CU_basic_run_suite(s);
	} else {
		CU_basic_run_tests();
	}
	failed_tests = CU_get_number_of_tests_failed();
	failed_asserts = CU_get_number_of_failures();
	run = CU_get_number_of_tests_run();
	printf("\n%u passed, %u failed\n", run - failed_tests, failed_tests);
	if (CU_get_error() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit error: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 99;
	}
	CU_cleanup_registry();
	if (run == 0) {
		fprintf(stderr, "no test was run\n");
		return 99;
	}
	return (failed_tests != 0 || failed_asserts != 0) ? 1 : 0;
}

/* ---- deterministic randombytes: ChaCha20 keystream from a seed ---- */

static unsigned char det_key[crypto_stream_chacha20_KEYBYTES];
static unsigned char det_block[64];
static uint64_t det_counter;
static size_t det_pos = sizeof(det_block);

static void
det_reset(uint64_t seed)
{
	size_t i;

	memset(det_key, 0, sizeof(det_key));
	for (i = 0; i < 8; i++)
		det_key[i] = (unsigned char)(seed >> (8 * i));
	det_counter = 0;
	det_pos = sizeof(det_block);
}

static void
det_buf(void *const buf, const size_t size)
{
	static const unsigned char nonce[crypto_stream_chacha20_NONCEBYTES];
	static const unsigned char zero[64];
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < size; i++) {
		if (det_pos == sizeof(det_block)) {
			crypto_stream_chacha20_xor_ic(det_block, zero, sizeof(zero), nonce,
						      det_counter++, det_key);
			det_pos = 0;
		}
		p[i] = det_block[det_pos++];
	}
}

static uint32_t
det_random(void)
{
	uint32_t v;

	det_buf(&v, sizeof(v));
	return v;
}

static const char *
det_name(void)
{
	return "laps-test-deterministic";
}

static randombytes_implementation det_impl = {
	.implementation_name = det_name,
	.random = det_random,
	.stir = NULL,
	.uniform = NULL, /* libsodium's own unbiased algorithm on top of random() */
	.buf = det_buf,
	.close = NULL,
};

void
laps_test_random_deterministic(uint64_t seed)
{
	det_reset(seed);
	randombytes_set_implementation(&det_impl);
}

void
laps_test_random_reseed(uint64_t seed)
{
	det_reset(seed);
}

/* ---- files ---- */

const char *
laps_test_tmpdir(void)
{
	static char path[4096];
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(path, sizeof(path), "%s/laps-test.XXXXXX", base);
	if (mkdtemp(path) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", path, strerror(errno));
		exit(99);
	}
	return path;
}

char laps_test_dir[4096];

int
laps_test_suite_init(void)
{
	snprintf(laps_test_dir, sizeof laps_test_dir, "%s", laps_test_tmpdir());
	return sodium_init() < 0 ? -1 : 0;
}

int
laps_test_suite_cleanup(void)
{
	laps_test_rmrf(laps_test_dir);
	laps_test_dir[0] = '\0';
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

void
laps_test_rmrf(const char *dir)
{
	if (dir != NULL && *dir != '\0')
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int
laps_test_write_file(const char *path, const char *content, unsigned mode)
{
	size_t len = strlen(content), done = 0;
	ssize_t n;
	int fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode)) < 0)
		return -1;
	while (done < len) {
		n = write(fd, content + done, len - done);
		if (n < 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	if (fchmod(fd, (mode_t)mode) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

const char *
laps_test_srcpath(const char *rel)
{
	static char path[4096];
	const char *top = getenv("top_srcdir");

	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	return path;
}
