/*
 * test_events.c — the event identifiers (escrow/events.h): the table is
 * sane, docs/EVENTS.md lists exactly its rows, log_event() puts the id in
 * the text and the journald writer sends the structured fields.
 *
 *   test_events --markdown   prints the table for docs/EVENTS.md
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/log.h"
#include "escrow/log_journal.h"
#include "tests/unit/testutil.h"

static void
print_markdown(FILE *f)
{
	const struct laps_event_def *t;
	size_t n, i;

	t = laps_event_table(&n);
	fprintf(f, "| Id | Name | Severity | Meaning | Suggested action |\n");
	fprintf(f, "|----|------|----------|---------|------------------|\n");
	for (i = 0; i < n; i++)
		fprintf(f, "| LAPS-%04u | %s | %s | %s | %s |\n", t[i].id, t[i].name,
			laps_log_level_name(t[i].level), t[i].meaning, t[i].action);
}

static bool
is_hex32(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 32;
}

/* Unique ids, names and MESSAGE_IDs; ids in their program's range. */
static void
test_table_sane(void)
{
	const struct laps_event_def *t;
	size_t n, i, k;

	t = laps_event_table(&n);
	CU_ASSERT(n >= 30);
	for (i = 0; i < n; i++) {
		CU_ASSERT(t[i].id >= 1000 && t[i].id <= 3999);
		CU_ASSERT(laps_event_get(t[i].id) == &t[i]);
		CU_ASSERT(is_hex32(t[i].message_id));
		CU_ASSERT(t[i].level >= LAPS_LOG_ERR && t[i].level <= LAPS_LOG_INFO);
		/* the documentation table is split on '|' */
		CU_ASSERT(strchr(t[i].meaning, '|') == NULL && strchr(t[i].action, '|') == NULL);
		CU_ASSERT(t[i].meaning[0] != '\0' && t[i].action[0] != '\0');
		if (i > 0)
			CU_ASSERT(t[i].id > t[i - 1].id); /* ordered, so unique */
		for (k = 0; k < i; k++) {
			CU_ASSERT(strcmp(t[i].name, t[k].name) != 0);
			CU_ASSERT(strcmp(t[i].message_id, t[k].message_id) != 0);
		}
	}
	CU_ASSERT(laps_event_get(0) == NULL);
	CU_ASSERT(laps_event_get(999) == NULL);
	CU_ASSERT_EQUAL(laps_event_get(LAPS_EV_ROTATED)->level, LAPS_LOG_NOTICE);
}

/* docs/EVENTS.md has exactly the table's rows ("| LAPS-" lines), in order. */
static void
test_doc_matches_header(void)
{
	char *want = NULL, line[4096];
	size_t wlen = 0, off = 0, rows = 0, n;
	FILE *f, *mem;

	laps_event_table(&n);
	mem = open_memstream(&want, &wlen);
	CU_ASSERT_FATAL(mem != NULL);
	print_markdown(mem);
	fclose(mem);
	f = fopen(laps_test_srcpath("docs/EVENTS.md"), "r");
	CU_ASSERT_FATAL(f != NULL);
	while (fgets(line, sizeof line, f) != NULL) {
		const char *nl;
		size_t ll;

		if (strncmp(line, "| LAPS-", 7) != 0)
			continue;
		rows++;
		/* skip the two heading lines of the expected text once */
		if (off == 0)
			off = strchr(strchr(want, '\n') + 1, '\n') + 1 - want;
		nl = strchr(want + off, '\n');
		ll = strlen(line);
		if (nl == NULL || (size_t)(nl + 1 - (want + off)) != ll ||
		    memcmp(want + off, line, ll) != 0) {
			printf("\ndocs/EVENTS.md differs from escrow/events.h at: %s", line);
			CU_FAIL(
			    "docs/EVENTS.md row differs (regenerate with test_events --markdown)");
			break;
		}
		off += ll;
	}
	fclose(f);
	CU_ASSERT_EQUAL(rows, n);
	free(want);
}

static char sunk[2048];
static int sunk_level;

static void
sink(void *ctx, int level, const char *msg)
{
	(void)ctx;
	sunk_level = level;
	snprintf(sunk, sizeof sunk, "%s", msg);
}

/* The id leads the text; the level is the table's, whatever the caller. */
static void
test_log_event_text(void)
{
	laps_log_set_level(LAPS_LOG_INFO);
	laps_log_set_sink(sink, NULL);
	log_event(LAPS_EV_ROTATED, "%s: password rotated", "lapsadmin");
	CU_ASSERT_STRING_EQUAL(sunk, "LAPS-1001 lapsadmin: password rotated");
	CU_ASSERT_EQUAL(sunk_level, LAPS_LOG_NOTICE);
	log_event_rc(LAPS_EV_ESCROW_FAILED, LAPS_ERR_BACKEND, "x\ny");
	CU_ASSERT(strncmp(sunk, "LAPS-1010 x\\ny: ", 16) == 0); /* still escaped */
	CU_ASSERT_EQUAL(sunk_level, LAPS_LOG_ERR);
	log_event(LAPS_EV_ROTATION_DUE, "due");
	CU_ASSERT_STRING_EQUAL(sunk, "LAPS-1006 due");
	CU_ASSERT_EQUAL(sunk_level, LAPS_LOG_INFO);
	sunk[0] = '\0';
	laps_log_set_level(LAPS_LOG_NOTICE); /* info: dropped at notice */
	log_event(LAPS_EV_ROTATION_DUE, "due");
	CU_ASSERT_STRING_EQUAL(sunk, "");
	log_event(4242, "unknown id");
	CU_ASSERT_STRING_EQUAL(sunk, "LAPS-0000 unknown id");
	CU_ASSERT_EQUAL(sunk_level, LAPS_LOG_ERR);
	laps_log_set_sink(NULL, NULL);
}

/* Receive one datagram from fd into buf (NUL-terminated). */
static ssize_t
recv_one(int fd, char *buf, size_t cap)
{
	ssize_t n = recv(fd, buf, cap - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* The native protocol: MESSAGE, PRIORITY and the event fields. */
static void
test_journal_fields(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[4200], buf[4096];
	int fd;

	snprintf(path, sizeof path, "%s/journal.sock", laps_test_tmpdir());
	CU_ASSERT_FATAL(strlen(path) < sizeof sa.sun_path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	laps_log_init("laps-test", LAPS_LOG_TO_STDERR);
	laps_log_set_level(LAPS_LOG_NOTICE);
	CU_ASSERT_FATAL(laps_log_journal_open(path) == 0);
	log_event(LAPS_EV_ROTATED, "%s: password rotated", "lapsadmin");
	CU_ASSERT(recv_one(fd, buf, sizeof buf) > 0);
	CU_ASSERT(strstr(buf, "MESSAGE=LAPS-1001 lapsadmin: password rotated\n") == buf);
	CU_ASSERT(strstr(buf, "\nPRIORITY=5\n") != NULL);
	CU_ASSERT(strstr(buf, "\nSYSLOG_IDENTIFIER=laps-test\n") != NULL);
	CU_ASSERT(strstr(buf, "\nLAPS_EVENT_ID=1001\n") != NULL);
	CU_ASSERT(strstr(buf, "\nLAPS_EVENT=ROTATED\n") != NULL);
	CU_ASSERT(strstr(buf, "\nMESSAGE_ID=4d14839851524dc8a09900c5b863d4bc\n") != NULL);
	/* a line without an event: no event fields */
	log_notice("plain %d", 1);
	CU_ASSERT(recv_one(fd, buf, sizeof buf) > 0);
	CU_ASSERT(strstr(buf, "MESSAGE=plain 1\n") == buf);
	CU_ASSERT(strstr(buf, "LAPS_EVENT") == NULL && strstr(buf, "MESSAGE_ID") == NULL);
	/* the socket gone: the line falls back to stderr, nothing is lost */
	close(fd);
	unlink(path);
	log_event(LAPS_EV_ROTATED, "fallback");
	laps_log_journal_close();
	/* not under systemd: auto does nothing */
	unsetenv("JOURNAL_STREAM");
	CU_ASSERT_EQUAL(laps_log_journal_auto(), 0);
	setenv("JOURNAL_STREAM", "1:2", 1);
	CU_ASSERT_EQUAL(laps_log_journal_auto(), 0);
	unsetenv("JOURNAL_STREAM");
}

int
main(int argc, char **argv)
{
	static CU_TestInfo tests[] = {
	    {"table is sane", test_table_sane},
	    {"docs/EVENTS.md matches escrow/events.h", test_doc_matches_header},
	    {"log_event: id in the text, table's level", test_log_event_text},
	    {"journald native protocol fields", test_journal_fields},
	    CU_TEST_INFO_NULL};
	static CU_SuiteInfo suites[] = {{"events", NULL, NULL, NULL, NULL, tests},
					CU_SUITE_INFO_NULL};

	if (argc > 1 && strcmp(argv[1], "--markdown") == 0) {
		print_markdown(stdout);
		return 0;
	}
	return laps_test_main(argc, argv, suites);
}
