/*
 * main.c — laps-get: the administrators' command-line tool.
 *
 *   laps-get [-c FILE] [--key FILE] [--account A] [--history[=N]] [--json] HOST
 *   laps-get [-c FILE] [--account A] --expire[=WHEN] HOST
 *   laps-get keygen -o FILE [--comment C] [--passphrase-fd N | --no-passphrase]
 *
 * This file parses the command line, loads the configuration and is the only
 * place where LAPS_ERR_* codes become exit statuses (documented in
 * laps-get(1)).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "backends/registry.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "laps-get/lapsget.h"

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
	EXIT_OTHER_ = 10
};

static int
exit_status(int rc)
{
	switch (rc) {
	case 0:
		return EXIT_OK_;
	case LAPS_ERR_INVALID:
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
	fprintf(f, "usage: " PROG " [-c FILE] [--key FILE] [--passphrase-fd N] [--account A]\n"
		   "                [--history[=N]] [--json] [--source NAME|graph] HOST\n"
		   "       " PROG " [-c FILE] [--account A] [--source NAME] --expire[=WHEN] HOST\n"
		   "       " PROG " keygen -o FILE [--comment C] [--passphrase-fd N | "
		   "--no-passphrase]\n"
		   "\n"
		   "  -c, --config FILE      configuration (default ~/.config/laps/laps-get.conf,\n"
		   "                         then " SYSCONFDIR "/laps/laps-get.conf)\n"
		   "  -k, --key FILE         admin private key (default [laps-get] key, then\n"
		   "                         ~/.config/laps/admin.key)\n"
		   "  -P, --passphrase-fd N  read the key passphrase from file descriptor N\n"
		   "  -a, --account A        managed account (default: first of [agent] accounts)\n"
		   "  -H, --history[=N]      also show up to N older passwords\n"
		   "  -j, --json             JSON output\n"
		   "  -s, --source NAME      escrow backend to read (default [escrow] backend),\n"
		   "                         or 'graph' for Windows LAPS in Entra ID\n"
		   "  -e, --expire[=WHEN]    make the password expire (now, +DURATION, ISO 8601)\n"
		   "  -v, --verbose          debug messages on standard error\n"
		   "  -V, --version          print the version\n"
		   "  -h, --help             this help\n"
		   "See laps-get(1) for the exit statuses.\n");
}

static void
fail(int rc, const char *what)
{
	char buf[2048];
	const char *msg;

	/* These details are whole sentences already. */
	if ((rc == LAPS_ERR_AMBIGUOUS || rc == LAPS_ERR_NOTRECIPIENT) && laps_errdetail()[0])
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
load_config(const char *opt_path, struct laps_config *cfg)
{
	char user[LG_PATH_MAX];
	const char *home = home_dir(), *path = opt_path;
	struct stat st;
	int rc;

	if ((rc = laps_config_init(cfg)) != 0)
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
	rc = laps_config_load(cfg, path, LAPS_CONFIG_NO_OWNER);
	if (rc == LAPS_ERR_NOTFOUND || rc == LAPS_ERR_IO || rc == LAPS_ERR_TOOBIG)
		rc = lg_seterr_prefix(LAPS_ERR_CONFIG, NULL);
	return rc;
}

/* --- keygen --- */

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"comment", required_argument, NULL, 'C'},
	    {"passphrase-fd", required_argument, NULL, 'P'},
	    {"no-passphrase", no_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct lg_keygen_opts o = {NULL, NULL, -1, false};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:C:P:Nh", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out_path = optarg;
			break;
		case 'C':
			o.comment = optarg;
			break;
		case 'P':
			if ((rc = parse_fd(optarg, &o.passphrase_fd)) != 0) {
				fail(rc, NULL);
				return EXIT_USAGE_;
			}
			break;
		case 'N':
			o.no_passphrase = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK_;
		default:
			usage(stderr);
			return EXIT_USAGE_;
		}
	}
	if (optind != argc || o.out_path == NULL) {
		fprintf(stderr, PROG ": keygen needs -o FILE and no other argument\n");
		usage(stderr);
		return EXIT_USAGE_;
	}
	if (o.no_passphrase && o.passphrase_fd >= 0) {
		fprintf(stderr, PROG ": --no-passphrase and --passphrase-fd exclude each other\n");
		return EXIT_USAGE_;
	}
	if ((rc = lg_keygen(&o, PROG)) != 0) {
		fail(rc, "keygen");
		return exit_status(rc);
	}
	return EXIT_OK_;
}

/* --- reading and expiring --- */

struct opts {
	const char *config, *key, *account, *source, *expire, *host;
	int passphrase_fd;
	bool json, history, expire_set;
	int64_t expire_at; /* --expire's WHEN, parsed before anything is opened */
	size_t history_n;  /* 0 = default */
};

static int
do_expire(struct laps_backend *b, const char *device, const char *account, int64_t when)
{
	char t[32];
	int rc;

	if (!(laps_backend_caps(b) & LAPS_BCAP_EXPIRY))
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "backend %s cannot set the expiry",
				   laps_backend_describe(b));
	if ((rc = laps_backend_set_expiry(b, device, account, when)) != 0)
		return rc;
	fprintf(stderr,
		PROG ": %s/%s: the password expires %s %s; the agent rotates it at its "
		     "next run after that\n",
		device, account, when <= (int64_t)time(NULL) ? "now," : "at",
		lg_format_time(when, t, sizeof t));
	return 0;
}

static int
run(const struct opts *o)
{
	struct laps_config cfg;
	struct laps_backend *b = NULL;
	struct lg_keysrc ks;
	struct lg_result res;
	const struct laps_backend_ops *ops;
	char keypath[LG_PATH_MAX], device[LAPS_DEVICE_MAX + 1];
	const char *account, *keyfile, *home, *backend;
	bool graph = o->source != NULL && strcmp(o->source, "graph") == 0;
	size_t hist_n;
	int rc;

	lg_result_init(&res);
	lg_keysrc_init(&ks, NULL, -1);
	memset(&cfg, 0, sizeof cfg);
	if ((rc = load_config(o->config, &cfg)) != 0) {
		fail(rc, "configuration");
		rc = rc == LAPS_ERR_NOMEM ? EXIT_OTHER_ : EXIT_CONFIG_;
		goto out;
	}
	if (o->source != NULL && !graph) {
		free(cfg.backend);
		if ((cfg.backend = strdup(o->source)) == NULL) {
			rc = EXIT_OTHER_;
			goto out;
		}
	}
	if (!graph && laps_backend_lookup(cfg.backend) == NULL) {
		fprintf(stderr, PROG ": unknown backend '%s' (known: %s, graph)\n",
			cfg.backend ? cfg.backend : "", laps_backend_names());
		rc = EXIT_CONFIG_;
		goto out;
	}
	if ((rc = laps_config_validate(&cfg, graph ? LAPS_USE_GET_GRAPH : LAPS_USE_GET)) != 0) {
		fail(rc, "configuration");
		rc = EXIT_CONFIG_;
		goto out;
	}
	account = o->account ? o->account : (cfg.n_accounts > 0 ? cfg.accounts[0] : "lapsadmin");
	if (strlen(account) > LAPS_ACCOUNT_MAX) {
		fprintf(stderr, PROG ": account name too long\n");
		rc = EXIT_USAGE_;
		goto out;
	}
	hist_n = o->history_n ? o->history_n : (cfg.history ? cfg.history : 10);
	if (hist_n > LG_HISTORY_MAX)
		hist_n = LG_HISTORY_MAX;

	if (graph) {
		if (o->expire_set) {
			fprintf(stderr, PROG ": --source graph is read-only: Windows LAPS in Entra "
					     "ID cannot be forced to rotate from here\n");
			rc = EXIT_USAGE_;
			goto out;
		}
		rc = lg_graph_read(&cfg, o->host, o->account, hist_n, o->history, &res);
		if (rc != 0) {
			fail(rc, o->host);
			rc = exit_status(rc);
			goto out;
		}
	} else {
		backend = cfg.backend;
		ops = laps_backend_lookup(backend); /* checked above */
		if ((rc = laps_backend_open(ops, &cfg, LAPS_ROLE_ADMIN, &b)) != 0) {
			fail(rc, backend);
			rc = exit_status(rc);
			goto out;
		}
		if ((rc = lg_resolve_host(b, o->host, device, sizeof device)) != 0) {
			fail(rc, NULL);
			rc = exit_status(rc);
			goto out;
		}
		if (o->expire_set) {
			if ((rc = do_expire(b, device, account, o->expire_at)) != 0) {
				fail(rc, "expire");
				rc = exit_status(rc);
			}
			goto out;
		}
		keyfile = o->key ? o->key : cfg.get_key;
		if (keyfile == NULL && (home = home_dir()) != NULL &&
		    laps_snprintf(keypath, sizeof keypath, "%s/.config/laps/admin.key", home) == 0)
			keyfile = keypath;
		lg_keysrc_init(&ks, keyfile, o->passphrase_fd);
		if ((rc = lg_read(b, device, account, &ks, hist_n, o->history, &res)) != 0) {
			fail(rc, NULL);
			rc = exit_status(rc);
			goto out;
		}
	}
	rc = o->json ? lg_print_json(&res) : lg_print_text(&res, PROG);
	if (rc != 0) {
		fail(rc, NULL);
		rc = EXIT_OTHER_;
		goto out;
	}
	if (o->json && res.cur.pending)
		fprintf(stderr,
			PROG ": the rotation of %s/%s is pending: \"password\" is the new "
			     "password, \"previous\" the one before, and either may be active.\n",
			res.cur.host, res.cur.account);
	rc = EXIT_OK_;
out:
	lg_result_clear(&res);
	lg_keysrc_clear(&ks);
	laps_backend_close(b);
	laps_config_free(&cfg);
	return rc;
}

/*
 * libcurl's own buffers hold secrets too (the token request with the client
 * secret, the Authorization header, the download buffer with passwordBase64)
 * and libcurl frees them without wiping.  Its allocator is the C library's,
 * wrapped so that every block is wiped before it is freed.
 */
static void
lg_curl_free(void *p)
{
	if (p != NULL) {
		laps_wipe(p, malloc_usable_size(p));
		free(p);
	}
}

static void *
lg_curl_realloc(void *p, size_t n)
{
	void *q;
	size_t old;

	if (p == NULL)
		return malloc(n);
	if ((q = malloc(n > 0 ? n : 1)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	lg_curl_free(p);
	return q;
}

static void *
lg_curl_malloc(size_t n)
{
	return malloc(n);
}

static void *
lg_curl_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

static char *
lg_curl_strdup(const char *s)
{
	return strdup(s);
}

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

int
main(int argc, char **argv)
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
	    {NULL, 0, NULL, 0},
	};
	struct opts o;
	long long v;
	int c, rc, nargs;

	laps_log_init(PROG, LAPS_LOG_TO_STDERR);
	if ((rc = laps_secure_process()) != 0) {
		fail(rc, "cannot secure the process");
		return EXIT_OTHER_;
	}
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, lg_curl_malloc, lg_curl_free, lg_curl_realloc,
				 lg_curl_strdup, lg_curl_calloc) != CURLE_OK) {
		fprintf(stderr, PROG ": cannot initialise libcurl\n");
		return EXIT_OTHER_;
	}
	if (argc > 1 && strcmp(argv[1], "keygen") == 0) {
		rc = cmd_keygen(argc - 1, argv + 1);
		goto out;
	}
	memset(&o, 0, sizeof o);
	o.passphrase_fd = -1;
	while ((c = getopt_long(argc, argv, "c:k:P:a:H::js:e::vVh", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config = optarg;
			break;
		case 'k':
			o.key = optarg;
			break;
		case 'P':
			if ((rc = parse_fd(optarg, &o.passphrase_fd)) != 0) {
				fail(rc, NULL);
				rc = EXIT_USAGE_;
				goto out;
			}
			break;
		case 'a':
			o.account = optarg;
			break;
		case 'H':
			o.history = true;
			if (optarg != NULL) {
				if (laps_parse_int64(optarg, 1, LG_HISTORY_MAX, &v) != 0) {
					fprintf(stderr, PROG ": --history: N must be 1..%d\n",
						LG_HISTORY_MAX);
					rc = EXIT_USAGE_;
					goto out;
				}
				o.history_n = (size_t)v;
			}
			break;
		case 'j':
			o.json = true;
			break;
		case 's':
			o.source = optarg;
			break;
		case 'e':
			o.expire_set = true;
			o.expire = optarg;
			break;
		case 'v':
			laps_log_set_level(LAPS_LOG_DEBUG);
			break;
		case 'V':
			printf(PROG " " LAPS_GET_VERSION "\n");
			rc = EXIT_OK_;
			goto out;
		case 'h':
			usage(stdout);
			rc = EXIT_OK_;
			goto out;
		default:
			usage(stderr);
			rc = EXIT_USAGE_;
			goto out;
		}
	}
	nargs = argc - optind;
	/* "--history N HOST": N given as a separate word */
	if (o.history && o.history_n == 0 && nargs == 2 && all_digits(argv[optind])) {
		if (laps_parse_int64(argv[optind], 1, LG_HISTORY_MAX, &v) != 0) {
			fprintf(stderr, PROG ": --history: N must be 1..%d\n", LG_HISTORY_MAX);
			rc = EXIT_USAGE_;
			goto out;
		}
		o.history_n = (size_t)v;
		optind++;
		nargs--;
	}
	if (nargs != 1) {
		fprintf(stderr, PROG ": %s\n",
			nargs == 0 ? "no HOST given" : "only one HOST, please");
		usage(stderr);
		rc = EXIT_USAGE_;
		goto out;
	}
	o.host = argv[optind];
	if (o.host[0] == '\0' || strlen(o.host) > LAPS_DEVICE_MAX) {
		fprintf(stderr, PROG ": bad HOST\n");
		rc = EXIT_USAGE_;
		goto out;
	}
	if (o.expire_set && (o.json || o.history)) {
		fprintf(stderr, PROG ": --expire does not combine with --json or --history\n");
		rc = EXIT_USAGE_;
		goto out;
	}
	if (o.expire_set && (rc = lg_parse_when(o.expire ? o.expire : "now", (int64_t)time(NULL),
						&o.expire_at)) != 0) {
		fail(rc, "--expire");
		rc = EXIT_USAGE_;
		goto out;
	}
	rc = run(&o);
out:
	curl_global_cleanup();
	return rc;
}
