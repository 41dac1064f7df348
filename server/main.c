/*
 * main.c — laps-escrowd: command line, start-up, signals, exit codes
 * (man/laps-escrowd.8).
 *
 * Exit: 0 ok, 1 usage, 2 configuration, 3 store, 4 listen/TLS, 5 internal.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "server/tlsfiles.h"
#include "server/fmt.h"
#include "escrow/log.h"
#include "escrow/log_journal.h"
#include "escrow/secret.h"
#include "server/api.h"
#include "server/auth_token.h"
#include "server/http.h"
#include "server/escrowd_conf.h"
#include "server/est.h"
#include "server/est_boot.h"
#include "server/est_conf.h"
#include "server/notify.h"
#include "server/policy.h"
#include "server/retention.h"

#define CONFIG_DEFAULT SYSCONFDIR "/laps/laps-escrowd.conf"
#define GRACE_MS 10000

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_CONFIG = 2, EXIT_STORE = 3, EXIT_LISTEN = 4,
       EXIT_INTERNAL = 5 };

struct opts {
	const char *config;
	const char *port_file;
	bool check;
	bool verbose;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: laps-escrowd [-v] [-c FILE] [--port-file FILE] [check-config]\n");
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"port-file", required_argument, NULL, 'p'},
	    {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof *o);
	o->config = CONFIG_DEFAULT;
	while ((c = getopt_long(argc, argv, "c:p:vh", longopts, NULL)) != -1) {
		if (c == 'c')
			o->config = optarg;
		else if (c == 'p')
			o->port_file = optarg;
		else if (c == 'v')
			o->verbose = true;
		else
			return c == 'h' ? (usage(stdout), -2) : -1;
	}
	if (optind < argc && strcmp(argv[optind], "check-config") == 0) {
		o->check = true;
		optind++;
	}
	return optind == argc ? 0 : -1;
}

static int
fail(int code, int rc, const char *what)
{
	char buf[512];

	log_event(LAPS_EV_SERVER_START_FAILED, "%s: %s", what, laps_errstr(rc, buf, sizeof buf));
	return code;
}

/* escrowd_check_files callback: one line per refused file. */
static void
print_refused(void *arg, int rc)
{
	char buf[512];

	(void)arg;
	fprintf(stderr, "laps-escrowd: check-config: %s\n", laps_errstr(rc, buf, sizeof buf));
}

static int
load_config(const struct opts *o, struct laps_conf *cfg)
{
	int rc;

	if ((rc = laps_conf_init(cfg, &laps_escrowd_schema)) != 0)
		return rc;
	if ((rc = laps_conf_load(cfg, o->config, 0)) != 0)
		return rc;
	return laps_escrowd_conf_validate(cfg);
}

static int
write_port(const char *path, unsigned port)
{
	char buf[16];

	fmt_trunc(buf, sizeof buf, "%u\n", port);
	return laps_file_write_atomic(path, buf, strlen(buf), 0600);
}

/* Serve until SIGTERM/SIGINT, then stop gracefully. */
static int
serve(const struct opts *o, const struct laps_conf *cfg, struct api *api)
{
	struct http_server *srv = NULL;
	struct auth_token *tok = NULL;
	sigset_t set;
	int rc, sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
	signal(SIGPIPE, SIG_IGN);
	/* the webhook sender and the audit pruner: after the mask, so that
	 * they never take SIGTERM */
	if ((rc = notify_start(cfg)) != 0)
		return fail(EXIT_CONFIG, rc, "notify");
	if ((rc = retention_start(cfg, api->store)) != 0) {
		notify_stop(0);
		return fail(EXIT_INTERNAL, rc, "retention");
	}
	if (laps_oidc_conf(cfg)->issuer != NULL &&
	    (rc = auth_token_new(cfg, &api->authz, &tok)) != 0) {
		retention_stop();
		notify_stop(0);
		return fail(EXIT_CONFIG, rc, "oidc");
	}
	if ((rc = http_start(cfg, api, tok != NULL ? auth_token_verify : NULL, tok, &srv)) != 0) {
		auth_token_free(tok);
		retention_stop();
		notify_stop(0);
		return fail(EXIT_LISTEN, rc, "listen");
	}
	log_event(LAPS_EV_SERVER_STARTED, "listening on %s (port %u), store %.*s",
		  laps_server_conf(cfg)->listen, http_port(srv),
		  (int)strcspn(laps_store_conf(cfg)->url, ":"), laps_store_conf(cfg)->url);
	if (o->port_file != NULL && (rc = write_port(o->port_file, http_port(srv))) != 0)
		log_event_rc(LAPS_EV_SERVER_START_FAILED, rc, "port file");
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		log_event(LAPS_EV_RELOAD_IGNORED, "SIGHUP ignored: restart to reload the configuration");
	log_event(LAPS_EV_SERVER_STOPPING, "signal %d: finishing requests in flight", sig);
	http_stop(srv, GRACE_MS);
	retention_stop();
	notify_stop(GRACE_MS);
	auth_token_free(tok);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct laps_conf cfg;
	struct opts o;
	struct api api;
	int rc, code;

	laps_log_init("laps-escrowd", LAPS_LOG_TO_STDERR | LAPS_LOG_TO_SYSLOG);
	laps_log_journal_auto(); /* under systemd: structured fields (docs/EVENTS.md) */
	if ((rc = parse_args(argc, argv, &o)) != 0)
		return rc == -2 ? EXIT_OK : (usage(stderr), EXIT_USAGE);
	if (o.verbose)
		laps_log_set_level(LAPS_LOG_DEBUG);
	umask(077);
	if ((rc = laps_secure_process()) != 0)
		return fail(EXIT_INTERNAL, rc, "secure process");
	memset(&api, 0, sizeof api);
	if ((rc = load_config(&o, &cfg)) != 0) {
		code = fail(EXIT_CONFIG, rc, "configuration");
		goto out;
	}
	if (o.check) {
		/* "a start will work": the files it opens, as this user */
		if (escrowd_check_files(&cfg, print_refused, NULL) != 0) {
			code = EXIT_CONFIG;
			goto out;
		}
		if ((rc = notify_check(&cfg)) != 0) {
			print_refused(NULL, rc);
			code = EXIT_CONFIG;
			goto out;
		}
		policy_describe(&cfg, stdout);
		notify_describe(&cfg, stdout);
		retention_describe(&cfg, stdout);
		printf("%s: OK\n", o.config);
		code = EXIT_OK;
		goto out;
	}
	api.cfg = &cfg;
	api.metrics = laps_server_conf(&cfg)->metrics == LAPS_YES;
	if ((rc = authz_init(&api.authz, &cfg)) != 0 ||
	    (rc = ratelimit_new(laps_limits_conf(&cfg)->rate, laps_limits_conf(&cfg)->burst,
				&api.rl)) != 0) {
		code = fail(EXIT_CONFIG, rc, "configuration");
		goto out;
	}
	if ((rc = store_open(laps_store_conf(&cfg)->url, laps_server_conf(&cfg)->threads + 1,
			     retention_history(&cfg), &api.store)) != 0) {
		code = fail(EXIT_STORE, rc, "store");
		goto out;
	}
	if (laps_est_conf(&cfg)->ca_cert != NULL &&
	    (rc = est_ca_load(laps_est_conf(&cfg)->ca_cert, laps_est_conf(&cfg)->ca_key,
			      &api.est_ca)) != 0) {
		code = fail(EXIT_CONFIG, rc, "[est]");
		goto out;
	}
	if (laps_est_conf(&cfg)->bootstrap_ca != NULL &&
	    (rc = est_boot_load(laps_est_conf(&cfg)->bootstrap_ca, &api.est_boot)) != 0) {
		code = fail(EXIT_CONFIG, rc, "[est] bootstrap_ca");
		goto out;
	}
	code = serve(&o, &cfg, &api);
out:
	est_ca_free(api.est_ca);
	est_boot_free(api.est_boot);
	store_close(api.store);
	ratelimit_free(api.rl);
	laps_conf_free(&cfg);
	return code;
}
