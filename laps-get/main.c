/*
 * main.c — laps-get: the administrators' command-line tool.
 *
 *   laps-get [-c FILE] [--key FILE] [--account A] [--history[=N]] [--json] HOST
 *   laps-get [-c FILE] [--account A] --expire[=WHEN] HOST
 *   laps-get keygen -o FILE [--comment C] [--passphrase-fd N | --no-passphrase]
 *   laps-get report [-c FILE] [--source NAME] [--grace D] [--status LIST] [--json|--csv]
 *   laps-get enroll-token create|list|revoke ..., laps-get device list|disable|enable|reenroll ...
 *
 * This file parses the command line, loads the configuration and opens the
 * source.  Every step returns 0 or a LAPS_ERR_* code; main() alone turns
 * that code into an exit status (exit_status(), documented in laps-get(1)).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend_files.h"
#include "backends/registry.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "laps-get/lapsget.h"
#include "agent/agent_conf.h"
#include "escrow/escrow_conf.h"
#include "backends/backend_conf.h"
#include "laps-get/lapsget_conf.h"

#ifndef LAPS_GET_VERSION
#define LAPS_GET_VERSION "unknown"
#endif

#define PROG "laps-get"
#define LG_PATH_MAX 4096

/* Exit statuses (laps-get(1), EXIT STATUS). */
enum {
	EXIT_OK_ = 0,
	EXIT_USAGE_ = 1,
	EXIT_CONFIG_ = 2,
	EXIT_NOTFOUND_ = 3,
	EXIT_AMBIGUOUS_ = 4,
	EXIT_DENIED_ = 5,
	EXIT_NOTRECIPIENT_ = 6,
	EXIT_PASSPHRASE_ = 7,
	EXIT_CORRUPT_ = 8,
	EXIT_UNREACHABLE_ = 9,
	EXIT_OTHER_ = 10,
	EXIT_PROBLEMS_ = 11 /* report: some account is overdue or stuck */
};

static int
exit_status(int rc)
{
	switch (rc) {
	case 0:
		return EXIT_OK_;
	case LAPS_ERR_INVALID:
	case LAPS_ERR_UNSUPPORTED: /* e.g. --expire on a read-only source */
		return EXIT_USAGE_;
	case LAPS_ERR_CONFIG:
	case LAPS_ERR_PERM:
		return EXIT_CONFIG_;
	case LAPS_ERR_NOTFOUND:
		return EXIT_NOTFOUND_;
	case LAPS_ERR_AMBIGUOUS:
		return EXIT_AMBIGUOUS_;
	case LAPS_ERR_AUTH:
	case LAPS_ERR_ACCESS:
		return EXIT_DENIED_;
	case LAPS_ERR_NOTRECIPIENT:
		return EXIT_NOTRECIPIENT_;
	case LAPS_ERR_PASSPHRASE:
		return EXIT_PASSPHRASE_;
	case LAPS_ERR_FORMAT:
	case LAPS_ERR_VERSION:
	case LAPS_ERR_TOOBIG:
	case LAPS_ERR_CRYPTO:
		return EXIT_CORRUPT_;
	case LAPS_ERR_UNAVAILABLE:
	case LAPS_ERR_TIMEOUT:
	case LAPS_ERR_TLS:
	case LAPS_ERR_BUSY:
		return EXIT_UNREACHABLE_;
	default:
		return EXIT_OTHER_;
	}
}

static void
usage(FILE *f)
{
	/* clang-format off */
	fprintf(f, "usage: " PROG " [-c FILE] [--key FILE] [--passphrase-fd N] [--account A]\n"
		   "                [--history[=N]] [--json] [--source NAME] HOST\n"
		   "       " PROG " [-c FILE] [--account A] [--source NAME] --expire[=WHEN] HOST\n"
		   "       " PROG " keygen [-o FILE] [--comment C] [--passphrase-fd N | "
		   "--no-passphrase]\n"
		   "       " PROG " [-c FILE] check-config [--source NAME] [--key FILE]\n"
		   "       " PROG " [-c FILE] expire --filter KEY=VALUE... [--status S] [--dry-run] "
		   "[--yes]\n"
		   "       " PROG " [-c FILE] request HOST --reason R | approvals | approve ID | "
		   "deny ID\n"
		   "       " PROG " [-c FILE] --break-glass --reason R HOST\n"
		   "       " PROG " [-c FILE] report [--source NAME] [--grace DURATION]\n"
		   "                [--status ok,due,overdue,stuck,never] [--json | --csv]\n"
		   "       " PROG " [-c FILE] enroll-token create --unit U --uses N --expires D\n"
		   "                [--name-pattern P] [--json]\n"
		   "       " PROG " [-c FILE] enroll-token list [--json] | revoke ID\n"
		   "       " PROG " [-c FILE] device list [--status enabled|disabled] [--json]\n"
		   "       " PROG " [-c FILE] device disable|enable|reenroll HOST\n"
		   "\n"
		   "  -c, --config FILE      configuration (default ~/.config/laps/laps-get.conf,\n"
		   "                         then " SYSCONFDIR "/laps/laps-get.conf)\n"
		   "  -k, --key FILE         admin private key (default [laps-get] key, then\n"
		   "                         ~/.config/laps/admin.key)\n"
		   "  -P, --passphrase-fd N  read the key passphrase from file descriptor N\n"
		   "  -a, --account A        managed account (default: first of [agent] accounts)\n"
		   "  -H, --history[=N]      also show up to N older passwords\n"
		   "  -j, --json             JSON output\n"
		   "  -s, --source NAME      backend to read (default [escrow] backend): file,\n"
		   "                         ldap, rest, or graph (Windows LAPS in Entra ID,\n"
		   "                         read-only)\n"
		   "  -e, --expire[=WHEN]    make the password expire (now, +DURATION, ISO 8601)\n"
		   "  -v, --verbose          debug messages on standard error\n"
		   "  -V, --version          print the version\n"
		   "  -h, --help             this help\n"
		   "See laps-get(1) for the exit statuses.\n");
	/* clang-format on */
}

static void
fail(int rc, const char *what)
{
	char buf[2048];
	const char *msg;

	/* These details are whole sentences already. */
	if ((rc == LAPS_ERR_AMBIGUOUS || rc == LAPS_ERR_NOTRECIPIENT ||
	     rc == LAPS_ERR_PASSPHRASE) &&
	    laps_errdetail()[0])
		msg = laps_errdetail();
	else
		msg = laps_errstr(rc, buf, sizeof buf);
	fprintf(stderr, PROG ": %s%s%s\n", what ? what : "", what ? ": " : "", msg);
}

static int
parse_fd(const char *s, int *fd)
{
	long long v;

	if (laps_parse_int64(s, 0, INT_MAX, &v) != 0)
		return laps_seterr(LAPS_ERR_INVALID,
				   "--passphrase-fd: '%s' is not a file "
				   "descriptor number",
				   s);
	if (fcntl((int)v, F_GETFD) < 0)
		return laps_seterr(LAPS_ERR_INVALID, "--passphrase-fd: %lld is not open", v);
	*fd = (int)v;
	return 0;
}

static const char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] == '/')
		return h;
	pw = getpwuid(getuid());
	return pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : NULL;
}

/* keygen without -o: the file laps-get reads by default,
 * ~/.config/laps/admin.key. */
static int
keygen_default_path(struct lg_keygen_opts *k, char *buf, size_t len)
{
	const char *home;

	if (k->out_path != NULL)
		return 0;
	if ((home = home_dir()) == NULL ||
	    laps_snprintf(buf, len, "%s/.config/laps/admin.key", home) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "keygen needs -o FILE (no home directory)");
	k->out_path = buf;
	return 0;
}

/* A user's own configuration file: owned by them (or root) and writable by
 * nobody else. */
static int
check_user_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return laps_seterr(errno == ENOENT ? LAPS_ERR_CONFIG : LAPS_ERR_IO, "%s: %s", path,
				   strerror(errno));
	if (!S_ISREG(st.st_mode))
		return laps_seterr(LAPS_ERR_CONFIG, "%s: not a regular file", path);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return laps_seterr(LAPS_ERR_PERM, "%s: owned by uid %u, not by you or root", path,
				   (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return laps_seterr(LAPS_ERR_PERM, "%s: group- or world-writable; refusing it",
				   path);
	return 0;
}

static int
load_config(const char *opt_path, struct laps_conf *cfg)
{
	char user[LG_PATH_MAX];
	const char *home = home_dir(), *path = opt_path;
	struct stat st;
	int rc;

	if ((rc = laps_conf_init(cfg, &laps_get_schema)) != 0)
		return rc;
	if (path == NULL) {
		if (home != NULL &&
		    laps_snprintf(user, sizeof user, "%s/.config/laps/laps-get.conf", home) == 0 &&
		    lstat(user, &st) == 0)
			path = user;
		else if (lstat(SYSCONFDIR "/laps/laps-get.conf", &st) == 0)
			path = SYSCONFDIR "/laps/laps-get.conf";
		else
			return laps_seterr(LAPS_ERR_CONFIG,
					   "no configuration file: create "
					   "~/.config/laps/laps-get.conf or " SYSCONFDIR
					   "/laps/laps-get.conf, or use -c FILE");
	}
	if ((rc = check_user_file(path)) != 0)
		return rc;
	rc = laps_conf_load(cfg, path, LAPS_CONFIG_NO_OWNER);
	if (rc == LAPS_ERR_NOTFOUND || rc == LAPS_ERR_IO || rc == LAPS_ERR_TOOBIG)
		rc = lg_seterr_prefix(LAPS_ERR_CONFIG, NULL);
	return rc;
}

/* --- the command line --- */

enum lg_cmd {
	CMD_READ = 0,
	CMD_EXPIRE,
	CMD_KEYGEN,
	CMD_REPORT,
	CMD_CHECK,
	CMD_ADMIN, /* enroll-token, device (enroll.c) */
	CMD_HELP,
	CMD_VERSION,
	CMD_BULK,    /* expire with --filter/--status (policy.c) */
	CMD_APPROVAL /* request, approvals, approve, deny (policy.c) */
};

struct opts {
	enum lg_cmd cmd;
	const char *config, *key, *account, *source, *expire, *host;
	int passphrase_fd;
	bool json, history;
	int64_t expire_at; /* --expire's WHEN, parsed before anything is opened */
	size_t history_n;  /* 0 = default */
	struct lg_keygen_opts keygen;
	struct lg_report_opts report;
	struct lg_bulk_opts bulk; /* laps-get expire (policy.c) */
	struct lg_approval_opts approval; /* request, approvals, approve, deny (policy.c) */
	const char *reason;		  /* --reason (with --break-glass) */
	bool break_glass;
	struct lg_admin_opts admin;
};

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int
parse_history_n(const char *s, size_t *n)
{
	long long v;

	if (laps_parse_int64(s, 1, LG_HISTORY_MAX, &v) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "--history: N must be 1..%d", LG_HISTORY_MAX);
	*n = (size_t)v;
	return 0;
}

/* laps-get keygen -o FILE [--comment C] [--passphrase-fd N | --no-passphrase] */
static int
parse_keygen(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"output", required_argument, NULL, 'o'},
	    {"comment", required_argument, NULL, 'C'},
	    {"passphrase-fd", required_argument, NULL, 'P'},
	    {"no-passphrase", no_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct lg_keygen_opts *k = &o->keygen;
	int c, rc;

	o->cmd = CMD_KEYGEN;
	k->passphrase_fd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:C:P:Nvh", lopts, NULL)) != -1) {
		switch (c) {
		case 'c': /* "laps-get -c FILE keygen": accepted, keygen reads no configuration */
			o->config = optarg;
			break;
		case 'v':
			break;
		case 'o':
			k->out_path = optarg;
			break;
		case 'C':
			k->comment = optarg;
			break;
		case 'P':
			if ((rc = parse_fd(optarg, &k->passphrase_fd)) != 0)
				return rc;
			break;
		case 'N':
			k->no_passphrase = true;
			break;
		case 'h':
			o->cmd = CMD_HELP;
			return 0;
		default:
			return LAPS_ERR_INVALID;
		}
	}
	if (optind != argc)
		return laps_seterr(LAPS_ERR_INVALID,
				   "keygen takes no argument (the file is -o FILE)");
	if (k->no_passphrase && k->passphrase_fd >= 0)
		return laps_seterr(LAPS_ERR_INVALID,
				   "--no-passphrase and --passphrase-fd exclude each other");
	return 0;
}

/* laps-get report [-c FILE] [-s NAME] [--grace D] [--status LIST] [--json | --csv] */
static int
parse_report(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"source", required_argument, NULL, 's'},
	    {"grace", required_argument, NULL, 'g'},  {"status", required_argument, NULL, 'S'},
	    {"json", no_argument, NULL, 'j'},	      {"csv", no_argument, NULL, 'C'},
	    {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct lg_report_opts *r = &o->report;
	int c, rc;

	o->cmd = CMD_REPORT;
	r->grace = 86400;
	r->status_mask = (1u << LG_STATUS_COUNT) - 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:g:S:jCvh", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->source = optarg;
			break;
		case 'g':
			if (laps_config_parse_duration(optarg, &r->grace) != 0 || r->grace < 0)
				return laps_seterr(LAPS_ERR_INVALID,
						   "--grace: '%s' is not a duration (e.g. 12h, 2d)",
						   optarg);
			break;
		case 'S':
			if ((rc = lg_status_parse_list(optarg, &r->status_mask)) != 0)
				return rc;
			break;
		case 'j':
		case 'C':
			if (r->format != LG_REPORT_TABLE)
				return laps_seterr(LAPS_ERR_INVALID,
						   "--json and --csv exclude each other");
			r->format = c == 'j' ? LG_REPORT_JSON : LG_REPORT_CSV;
			break;
		case 'v':
			laps_log_set_level(LAPS_LOG_DEBUG);
			break;
		case 'h':
			o->cmd = CMD_HELP;
			return 0;
		default:
			return LAPS_ERR_INVALID;
		}
	}
	if (optind != argc)
		return laps_seterr(LAPS_ERR_INVALID, "report takes no HOST");
	return 0;
}

/* laps-get expire --filter KEY=VALUE... [--status S] [--dry-run] [--yes] */
static int
parse_bulk(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"source", required_argument, NULL, 's'},
	    {"filter", required_argument, NULL, 'f'}, {"status", required_argument, NULL, 'S'},
	    {"dry-run", no_argument, NULL, 'n'},      {"yes", no_argument, NULL, 'y'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	int c, rc;

	o->cmd = CMD_BULK;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:f:S:nyh", lopts, NULL)) != -1) {
		if (c == 'c')
			o->config = optarg;
		else if (c == 's')
			o->source = optarg;
		else if (c == 'f' && (rc = lg_bulk_filter(&o->bulk, optarg)) != 0)
			return rc;
		else if (c == 'S')
			o->bulk.f.status = optarg;
		else if (c == 'n')
			o->bulk.dry_run = true;
		else if (c == 'y')
			o->bulk.yes = true;
		else if (c == 'h')
			return (o->cmd = CMD_HELP, 0);
		else if (c != 'f')
			return LAPS_ERR_INVALID;
	}
	if (optind != argc)
		return laps_seterr(LAPS_ERR_INVALID,
				   "expire takes no HOST (use --expire HOST for one)");
	if (o->bulk.f.name == NULL && o->bulk.f.unit == NULL && o->bulk.f.account == NULL &&
	    o->bulk.f.status == NULL && o->bulk.f.rotated_before == 0)
		return laps_seterr(LAPS_ERR_INVALID, "expire needs --filter or --status");
	return 0;
}

/* laps-get request HOST --reason R [-a A] | approvals | approve ID | deny ID */
static int
parse_approval(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"source", required_argument, NULL, 's'},
	    {"account", required_argument, NULL, 'a'},
	    {"reason", required_argument, NULL, 'R'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = argv[0];
	long long id;
	int c;

	o->cmd = CMD_APPROVAL;
	o->approval.verb = strcmp(verb, "approvals") == 0 ? "list" : verb;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:a:jh", lopts, NULL)) != -1) {
		if (c == 'c')
			o->config = optarg;
		else if (c == 's')
			o->source = optarg;
		else if (c == 'a')
			o->account = optarg;
		else if (c == 'R')
			o->approval.reason = optarg;
		else if (c == 'j')
			o->approval.json = true;
		else if (c == 'h')
			return (o->cmd = CMD_HELP, 0);
		else
			return LAPS_ERR_INVALID;
	}
	if (strcmp(verb, "approvals") == 0)
		return optind == argc ? 0
				      : laps_seterr(LAPS_ERR_INVALID, "approvals takes nothing");
	if (optind + 1 != argc)
		return laps_seterr(LAPS_ERR_INVALID, "%s takes one %s", verb,
				   strcmp(verb, "request") == 0 ? "HOST" : "request ID");
	if (strcmp(verb, "request") == 0) {
		o->host = argv[optind];
		if (o->approval.reason == NULL)
			return laps_seterr(LAPS_ERR_INVALID,
					   "request needs --reason (e.g. a ticket)");
		return o->host[0] != '\0' && strlen(o->host) <= LAPS_DEVICE_MAX
			   ? 0
			   : laps_seterr(LAPS_ERR_INVALID, "bad HOST");
	}
	if (laps_parse_int64(argv[optind], 1, INT64_MAX, &id) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "%s: '%s' is not a request ID", verb,
				   argv[optind]);
	o->approval.id = id;
	return 0;
}

/* One option of the read/expire command line. */
static int
read_option(int c, struct opts *o)
{
	switch (c) {
	case 'c':
		o->config = optarg;
		return 0;
	case 'k':
		o->key = optarg;
		return 0;
	case 'P':
		return parse_fd(optarg, &o->passphrase_fd);
	case 'a':
		o->account = optarg;
		return 0;
	case 'H':
		o->history = true;
		return optarg != NULL ? parse_history_n(optarg, &o->history_n) : 0;
	case 'j':
		o->json = true;
		return 0;
	case 's':
		o->source = optarg;
		return 0;
	case 'e':
		o->cmd = CMD_EXPIRE;
		o->expire = optarg;
		return 0;
	case 'v':
		laps_log_set_level(LAPS_LOG_DEBUG);
		return 0;
	case 'V':
		o->cmd = CMD_VERSION;
		return 0;
	case 'B':
		o->break_glass = true;
		return 0;
	case 'R':
		o->reason = optarg;
		return 0;
	case 'h':
		o->cmd = CMD_HELP;
		return 0;
	default:
		return LAPS_ERR_INVALID; /* getopt said why */
	}
}

/* The operands after the options: [N] HOST, then the checks across options. */
static int
read_operands(int argc, char **argv, struct opts *o)
{
	int nargs = argc - optind, rc;

	/* "--history N HOST": N given as a separate word */
	if (o->history && o->history_n == 0 && nargs == 2 && all_digits(argv[optind])) {
		if ((rc = parse_history_n(argv[optind], &o->history_n)) != 0)
			return rc;
		optind++;
		nargs--;
	}
	if (nargs != 1)
		return laps_seterr(LAPS_ERR_INVALID, "%s",
				   nargs == 0 ? "no HOST given" : "only one HOST, please");
	o->host = argv[optind];
	if (o->host[0] == '\0' || strlen(o->host) > LAPS_DEVICE_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "bad HOST");
	if (o->account != NULL && (o->account[0] == '\0' || strlen(o->account) > LAPS_ACCOUNT_MAX))
		return laps_seterr(LAPS_ERR_INVALID, "bad account name");
	if (o->break_glass != (o->reason != NULL) || (o->break_glass && o->cmd == CMD_EXPIRE))
		return laps_seterr(LAPS_ERR_INVALID, "--break-glass and --reason go together, "
						     "with a read");
	if (o->cmd == CMD_EXPIRE && (o->json || o->history))
		return laps_seterr(LAPS_ERR_INVALID,
				   "--expire does not combine with --json or --history");
	if (o->cmd == CMD_EXPIRE &&
	    (rc = lg_parse_when(o->expire ? o->expire : "now", (int64_t)time(NULL),
				&o->expire_at)) != 0)
		return lg_seterr_prefix(LAPS_ERR_INVALID, "--expire");
	return 0;
}

/* laps-get check-config [-c FILE] [-s NAME] [-k FILE] */
static int
parse_check(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"source", required_argument, NULL, 's'},
	    {"key", required_argument, NULL, 'k'},    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	int c;

	o->cmd = CMD_CHECK;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:k:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->source = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'v':
			laps_log_set_level(LAPS_LOG_DEBUG);
			break;
		case 'h':
			o->cmd = CMD_HELP;
			return 0;
		default:
			return LAPS_ERR_INVALID;
		}
	}
	if (optind != argc)
		return laps_seterr(LAPS_ERR_INVALID, "check-config takes no argument");
	return 0;
}

/*
 * "laps-get -c FILE report", as "laps-agent -c FILE run": the index of the
 * subcommand (keygen, report, check-config) when only -c/--config, -v/--verbose and
 * -s/--source come before it, else 0.
 */
static int
subcommand_at(int argc, char **argv)
{
	int i = 1;

	while (i < argc) {
		const char *a = argv[i];

		if (strcmp(a, "keygen") == 0 || strcmp(a, "report") == 0 ||
		    strcmp(a, "check-config") == 0 || strcmp(a, "expire") == 0 ||
		    strcmp(a, "request") == 0 || strcmp(a, "approvals") == 0 ||
		    strcmp(a, "approve") == 0 || strcmp(a, "deny") == 0 ||
		    strcmp(a, "enroll-token") == 0 || strcmp(a, "device") == 0)
			return i;
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0 ||
		    strncmp(a, "--config=", 9) == 0 || strncmp(a, "--source=", 9) == 0 ||
		    (strncmp(a, "-c", 2) == 0 && a[2] != '\0') ||
		    (strncmp(a, "-s", 2) == 0 && a[2] != '\0'))
			i++;
		else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
			  strcmp(a, "-s") == 0 || strcmp(a, "--source") == 0) &&
			 i + 1 < argc)
			i += 2;
		else
			return 0;
	}
	return 0;
}

/* Move w[n] (the subcommand) in front of w[0..n-1], keeping their order. */
static void
rotate_words(char **w, int n)
{
	char *sub = w[n];

	memmove(w + 1, w, (size_t)n * sizeof *w);
	w[0] = sub;
}

/* argv into *o.  0 (o->cmd says what to do) or LAPS_ERR_INVALID. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"passphrase-fd", required_argument, NULL, 'P'},
	    {"account", required_argument, NULL, 'a'},
	    {"history", optional_argument, NULL, 'H'},
	    {"json", no_argument, NULL, 'j'},
	    {"source", required_argument, NULL, 's'},
	    {"expire", optional_argument, NULL, 'e'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {"break-glass", no_argument, NULL, 'B'},
	    {"reason", required_argument, NULL, 'R'},
	    {NULL, 0, NULL, 0},
	};
	int c, rc, sub;

	memset(o, 0, sizeof *o);
	o->passphrase_fd = -1;
	sub = subcommand_at(argc, argv);
	if (sub > 1) /* "-c FILE report": the leading options after the word */
		rotate_words(argv + 1, sub - 1);
	if (sub > 1 && sub + 1 < argc &&
	    (strcmp(argv[1], "enroll-token") == 0 || strcmp(argv[1], "device") == 0))
		rotate_words(argv + 2, sub - 1); /* and its verb ("device list") */
	if (argc > 1 && strcmp(argv[1], "keygen") == 0)
		return parse_keygen(argc - 1, argv + 1, o);
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return parse_report(argc - 1, argv + 1, o);
	if (argc > 1 && strcmp(argv[1], "check-config") == 0)
		return parse_check(argc - 1, argv + 1, o);
	if (argc > 1 && strcmp(argv[1], "expire") == 0)
		return parse_bulk(argc - 1, argv + 1, o);
	if (argc > 1 && (strcmp(argv[1], "request") == 0 || strcmp(argv[1], "approvals") == 0 ||
			 strcmp(argv[1], "approve") == 0 || strcmp(argv[1], "deny") == 0))
		return parse_approval(argc - 1, argv + 1, o);
	if (argc > 1 && (strcmp(argv[1], "enroll-token") == 0 || strcmp(argv[1], "device") == 0)) {
		o->cmd = CMD_ADMIN;
		rc = lg_admin_parse(argc - 1, argv + 1, &o->admin, &o->config, &o->source);
		if (rc == 0 && o->admin.help)
			o->cmd = CMD_HELP;
		return rc;
	}
	while ((c = getopt_long(argc, argv, "c:k:P:a:H::js:e::vVh", lopts, NULL)) != -1) {
		if ((rc = read_option(c, o)) != 0)
			return rc;
		if (o->cmd == CMD_HELP || o->cmd == CMD_VERSION)
			return 0;
	}
	return read_operands(argc, argv, o);
}

/* --- reading and expiring --- */

/* Everything a command opens, released by session_clear(). */
struct session {
	struct laps_conf cfg;
	const struct laps_backend_ops *ops;
	struct laps_backend *b;
	struct lg_keysrc ks;
	struct lg_result res;
	const char *account; /* NULL: any (a source that allows it), else borrowed */
	size_t hist_n;
	const char *what; /* context for the error message, or NULL; static: it outlives s */
};

static void
session_clear(struct session *s)
{
	lg_result_clear(&s->res);
	lg_keysrc_clear(&s->ks);
	laps_backend_close(s->b);
	laps_conf_free(&s->cfg);
}

/* Load and check the configuration with the command line's overrides. */
static int
configure(const struct opts *o, struct session *s)
{
	int rc;

	s->what = "configuration";
	if ((rc = load_config(o->config, &s->cfg)) != 0)
		return rc == LAPS_ERR_NOMEM ? rc : lg_seterr_prefix(LAPS_ERR_CONFIG, NULL);
	if (o->source != NULL) {
		free(laps_escrow_conf(&s->cfg)->backend);
		if ((laps_escrow_conf(&s->cfg)->backend = strdup(o->source)) == NULL)
			return LAPS_ERR_NOMEM;
	}
	if ((rc = laps_backend_load(laps_escrow_conf(&s->cfg)->backend, &s->ops)) != 0)
		return rc == LAPS_ERR_NOMEM ? rc : lg_seterr_prefix(LAPS_ERR_CONFIG, NULL);
	if ((rc = laps_backend_conf_validate(&s->cfg, LAPS_ROLE_ADMIN)) != 0)
		return rc == LAPS_ERR_NOMEM ? rc : lg_seterr_prefix(LAPS_ERR_CONFIG, NULL);
	if (o->cmd == CMD_REPORT || o->cmd == CMD_BULK || o->cmd == CMD_ADMIN)
		s->account = NULL; /* every account */
	else if (o->account != NULL)
		s->account = o->account;
	else if (s->ops->caps & LAPS_BCAP_ANYACCOUNT)
		s->account = NULL; /* the newest record of any account */
	else
		s->account = laps_agent_conf(&s->cfg)->n_accounts > 0
				 ? laps_agent_conf(&s->cfg)->accounts[0]
				 : "lapsadmin";
	s->hist_n =
	    o->history_n
		? o->history_n
		: (laps_escrow_conf(&s->cfg)->history ? laps_escrow_conf(&s->cfg)->history : 10);
	if (s->hist_n > LG_HISTORY_MAX)
		s->hist_n = LG_HISTORY_MAX;
	s->what = NULL;
	return 0;
}

static int
do_expire(struct session *s, const char *device, int64_t when)
{
	char t[32];
	int rc;

	s->what = "expire";
	if (laps_backend_caps(s->b) & LAPS_BCAP_READONLY)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "%s is read-only: its passwords cannot be forced to rotate "
				   "from here",
				   laps_backend_describe(s->b));
	if (s->account == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "--expire needs --account");
	if (!(laps_backend_caps(s->b) & LAPS_BCAP_EXPIRY))
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "backend %s cannot set the expiry",
				   laps_backend_describe(s->b));
	if ((rc = laps_backend_set_expiry(s->b, device, s->account, when)) != 0)
		return rc;
	if (when < (int64_t)time(NULL) - 60)
		fprintf(stderr,
			PROG ": %s/%s: %s is in the past: the password is expired now; the "
			     "agent rotates it at its next run\n",
			device, s->account, lg_format_time(when, t, sizeof t));
	else
		fprintf(stderr,
			PROG ": %s/%s: the password expires %s %s; the agent rotates it at its "
			     "next run after that\n",
			device, s->account, when <= (int64_t)time(NULL) ? "now," : "at",
			lg_format_time(when, t, sizeof t));
	return 0;
}

/* The admin key: --key, [laps-get] key, then ~/.config/laps/admin.key. */
static void
key_source(const struct opts *o, struct session *s, char *buf, size_t len)
{
	const char *keyfile = o->key ? o->key : laps_get_conf(&s->cfg)->key, *home;

	if (keyfile == NULL && (home = home_dir()) != NULL &&
	    laps_snprintf(buf, len, "%s/.config/laps/admin.key", home) == 0)
		keyfile = buf;
	lg_keysrc_init(&s->ks, keyfile, o->passphrase_fd);
}

/* Read or expire one device's record. */
static int
on_device(const struct opts *o, struct session *s, const char *device)
{
	if (o->cmd == CMD_EXPIRE)
		return do_expire(s, device, o->expire_at);
	return lg_read(s->b, device, s->account, &s->ks, s->hist_n, o->history, &s->res);
}

/* Read (or expire) through the configured backend: one path for every
 * source, the read-only ones (graph) included. */
static int
backend_command(const struct opts *o, struct session *s)
{
	char keypath[LG_PATH_MAX], device[LAPS_DEVICE_MAX + 1];
	struct laps_backend_env env;
	int rc;

	s->what = s->ops->name; /* static: cfg is freed before main prints it */
	laps_agent_backend_env(&s->cfg, &env);
	env.break_glass = o->break_glass ? o->reason : NULL;
	if ((rc = laps_backend_open(s->ops, &s->cfg, LAPS_ROLE_ADMIN, &env, &s->b)) != 0)
		return rc;
	s->what = NULL;
	key_source(o, s, keypath, sizeof keypath);
	if (lg_host_exact(s->b, o->host, device, sizeof device) &&
	    (rc = on_device(o, s, device)) != LAPS_ERR_NOTFOUND)
		return rc;
	if ((rc = lg_resolve_host(s->b, o->host, device, sizeof device)) != 0)
		return rc;
	return on_device(o, s, device);
}

static int
print_result(const struct opts *o, const struct lg_result *res)
{
	int rc;

	rc = o->json ? lg_print_json(res) : lg_print_text(res, PROG);
	if (rc != 0)
		return rc;
	if (o->json && res->cur.pending)
		fprintf(stderr,
			PROG ": the rotation of %s/%s is pending: \"password\" is the new "
			     "password, \"previous\" the one before, and either may be active.\n",
			res->cur.host, res->cur.account);
	return 0;
}

/* laps-get report: metadata only, no key is loaded.  *problems: some
 * account is overdue or stuck (main() makes that the exit status). */
static int
report_command(const struct opts *o, struct session *s, bool *problems)
{
	struct lg_report_opts ro = o->report;
	struct lg_report_summary sum;
	struct laps_backend_env env;
	int rc;

	s->what = s->ops->name; /* static: cfg is freed before main prints it */
	laps_agent_backend_env(&s->cfg, &env);
	if ((rc = laps_backend_open(s->ops, &s->cfg, LAPS_ROLE_ADMIN, &env, &s->b)) != 0)
		return rc;
	s->what = "report";
	ro.now = (int64_t)time(NULL);
	if ((rc = lg_report(s->b, &ro, &sum)) != 0)
		return rc;
	*problems = sum.count[LG_STATUS_OVERDUE] + sum.count[LG_STATUS_STUCK] > 0;
	s->what = NULL;
	return 0;
}

/* laps-get request|approvals|approve|deny: no key is loaded. */
static int
approval_command(const struct opts *o, struct session *s)
{
	char device[LAPS_DEVICE_MAX + 1] = "";
	struct laps_backend_env env;
	int rc;

	s->what = s->ops->name;
	laps_agent_backend_env(&s->cfg, &env);
	if ((rc = laps_backend_open(s->ops, &s->cfg, LAPS_ROLE_ADMIN, &env, &s->b)) != 0)
		return rc;
	s->what = o->approval.verb;
	if (o->host != NULL && !lg_host_exact(s->b, o->host, device, sizeof device) &&
	    (rc = lg_resolve_host(s->b, o->host, device, sizeof device)) != 0)
		return rc;
	if ((rc = lg_approval_run(s->b, &o->approval, device,
				  s->account != NULL ? s->account : "lapsadmin", PROG)) != 0)
		return rc;
	s->what = NULL;
	return 0;
}

/* laps-get expire (bulk): metadata only, no key is loaded. */
static int
bulk_command(const struct opts *o, struct session *s)
{
	struct laps_backend_env env;
	int rc;

	s->what = s->ops->name;
	laps_agent_backend_env(&s->cfg, &env);
	if ((rc = laps_backend_open(s->ops, &s->cfg, LAPS_ROLE_ADMIN, &env, &s->b)) != 0)
		return rc;
	s->what = "expire";
	if ((rc = lg_bulk_run(s->b, &o->bulk, PROG)) != 0)
		return rc;
	s->what = NULL;
	return 0;
}

/* laps-get enroll-token, device: the server's administration API. */
static int
admin_command(const struct opts *o, struct session *s)
{
	struct laps_backend_env env;
	int rc;

	s->what = s->ops->name; /* static: cfg is freed before main prints it */
	laps_agent_backend_env(&s->cfg, &env);
	if ((rc = laps_backend_open(s->ops, &s->cfg, LAPS_ROLE_ADMIN, &env, &s->b)) != 0)
		return rc;
	s->what = o->admin.cmd >= LG_DEVICE_LIST ? "device" : "enroll-token";
	if ((rc = lg_admin_run(s->b, &o->admin)) != 0)
		return rc;
	s->what = NULL;
	return 0;
}

/* laps_backend_check_files callback: one line per refused file. */
static void
print_refused_file(void *arg, const char *what, int rc)
{
	char buf[512];

	(void)arg;
	fprintf(stderr, PROG ": check-config: %s: %s\n", what, laps_errstr(rc, buf, sizeof buf));
}

/* laps-get check-config: the configuration, the files the backend's
 * section names and the admin key, as this user; nothing is contacted. */
static int
check_command(const struct opts *o, struct session *s)
{
	char keypath[LG_PATH_MAX], buf[512];
	bool prot = false;
	int rc, bad = 0;

	if (laps_backend_check_files(&s->cfg, print_refused_file, NULL) != 0) {
		bad++;
	} else if (s->ops->check != NULL && (rc = s->ops->check(&s->cfg)) != 0) {
		fprintf(stderr, PROG ": check-config: backend %s: %s\n", s->ops->name,
			laps_errstr(rc, buf, sizeof buf));
		bad++;
	} else if (s->ops->caps & LAPS_BCAP_LOCALOPEN) {
		/* its open contacts nothing: the module's own checks (rest: the
		 * client certificate and its key are a pair) */
		struct laps_backend_env env;

		laps_agent_backend_env(&s->cfg, &env);
		if ((rc = laps_backend_open(s->ops, &s->cfg, LAPS_ROLE_ADMIN, &env, &s->b)) != 0) {
			fprintf(stderr, PROG ": check-config: backend %s: %s\n", s->ops->name,
				laps_errstr(rc, buf, sizeof buf));
			bad++;
		}
	}
	key_source(o, s, keypath, sizeof keypath);
	if (s->ks.path == NULL) {
		fprintf(stderr, PROG ": check-config: no admin key (--key, [laps-get] key or "
				     "~/.config/laps/admin.key)\n");
		bad++;
	} else if ((rc = laps_privkey_file_protected(s->ks.path, &prot)) != 0) {
		fprintf(stderr, PROG ": check-config: admin key: %s\n",
			laps_errstr(rc, buf, sizeof buf));
		bad++;
	}
	if (bad > 0)
		return laps_seterr(LAPS_ERR_CONFIG, "%d problem%s (above)", bad,
				   bad > 1 ? "s" : "");
	printf("config: %s: OK\n", s->cfg.path != NULL ? s->cfg.path : "?");
	printf("backend: %s\n", s->ops->name);
	printf("admin key: %s (%s)\n", s->ks.path,
	       prot ? "passphrase-protected" : "NOT protected by a passphrase");
	return 0;
}

/* Read or expire one host's password.  what[whatlen] receives the context
 * for an error message ("" for none): a copy, since the session's strings
 * (the backend name) are freed before the caller prints it. */
static int
run(const struct opts *o, char *what, size_t whatlen, bool *problems)
{
	struct session s;
	int rc;

	memset(&s, 0, sizeof s);
	lg_result_init(&s.res);
	lg_keysrc_init(&s.ks, NULL, -1);
	if ((rc = configure(o, &s)) != 0)
		goto out;
	if (o->cmd == CMD_REPORT) {
		rc = report_command(o, &s, problems);
		goto out;
	}
	if (o->cmd == CMD_ADMIN) {
		rc = admin_command(o, &s);
		goto out;
	}
	if (o->cmd == CMD_CHECK) {
		s.what = "check-config";
		rc = check_command(o, &s);
		goto out;
	}
	if (o->cmd == CMD_BULK) {
		rc = bulk_command(o, &s);
		goto out;
	}
	if (o->cmd == CMD_APPROVAL) {
		rc = approval_command(o, &s);
		goto out;
	}
	if ((rc = backend_command(o, &s)) != 0 || o->cmd == CMD_EXPIRE)
		goto out;
	rc = print_result(o, &s.res);
out:
	snprintf(what, whatlen, "%s", s.what != NULL ? s.what : "");
	session_clear(&s);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	char what[64] = "";
	char keypath[4096];
	bool problems = false;
	int rc;

	laps_log_init(PROG, LAPS_LOG_TO_STDERR);
	laps_clearerr();
	if ((rc = parse_args(argc, argv, &o)) != 0) {
		if (laps_errdetail()[0] != '\0')
			fail(rc, NULL);
		usage(stderr);
		return exit_status(rc);
	}
	if (o.cmd == CMD_HELP || o.cmd == CMD_VERSION) {
		if (o.cmd == CMD_HELP)
			usage(stdout);
		else
			printf(PROG " " LAPS_GET_VERSION "\n");
		return EXIT_OK_;
	}
	if ((rc = laps_secure_process()) != 0) {
		fail(rc, "cannot secure the process");
		return EXIT_OTHER_;
	}
	if (o.cmd == CMD_KEYGEN) {
		snprintf(what, sizeof what, "keygen");
		rc = keygen_default_path(&o.keygen, keypath, sizeof keypath);
		if (rc == 0)
			rc = lg_keygen(&o.keygen, PROG);
	} else {
		rc = run(&o, what, sizeof what, &problems);
	}
	if (rc != 0)
		fail(rc, what[0] != '\0' ? what : NULL);
	return rc == 0 && problems ? EXIT_PROBLEMS_ : exit_status(rc);
}
