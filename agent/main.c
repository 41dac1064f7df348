/*
 * main.c — laps-agent: command line, exit codes, status and check-config.
 *
 * The only place where LAPS_ERR_* codes and failure stages become exit
 * statuses (see laps-agent(8)).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/account_create.h"
#include "agent/due.h"
#include "agent/enroll.h"
#include "agent/fault.h"
#include "agent/inputs.h"
#include "agent/journal.h"
#include "agent/lock.h"
#include "agent/metrics.h"
#include "agent/passgen.h"
#include "agent/postauth.h"
#include "agent/rotate.h"
#include "agent/state.h"
#include "agent/status.h"
#include "backends/backend_files.h"
#include "backends/registry.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/log.h"
#include "escrow/log_journal.h"
#include "escrow/marker.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"
#include "agent/agent_schema.h"
#include "backends/backend_conf.h"
#include "backends/ldap_conf.h"
#include "escrow/escrow_conf.h"

#ifndef LAPS_VERSION
#define LAPS_VERSION "unknown"
#endif

enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_CONFIG = 2,
	EXIT_ESCROW = 3,
	EXIT_LOCAL = 4,
	EXIT_LOCK = 5,
	EXIT_INTERNAL = 6
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: laps-agent [-v] [-c FILE] [-w SECONDS] COMMAND\n"
		"commands:\n"
		"  run [--post-auth-only]   rotate every account that is due (silent otherwise)\n"
		"  rotate [--account NAME]  rotate now\n"
		"  status [--json]          last rotation, expiry, backend, journal, last error\n"
		"  check-config             validate the configuration and the recipient keys\n"
		"  enroll [--server URL] [--ca FILE] (--token-file FILE | --token-fd N |\n"
		"          --bootstrap-cert FILE --bootstrap-key FILE)\n"
		"                           get the [rest] mTLS certificate over EST\n"
		"  --version                print the version\n");
}

static int
exit_for_stage(enum laps_stage s)
{
	switch (s) {
	case LAPS_STAGE_OK:
		return EXIT_OK;
	case LAPS_STAGE_CONFIG:
		return EXIT_CONFIG;
	case LAPS_STAGE_ESCROW:
		return EXIT_ESCROW;
	case LAPS_STAGE_LOCAL:
		return EXIT_LOCAL;
	case LAPS_STAGE_LOCK:
		return EXIT_LOCK;
	case LAPS_STAGE_INTERNAL:
		break;
	}
	return EXIT_INTERNAL;
}

/* ---- check-config ---- */

/* laps_agent_check_inputs callback: every refused input, one line each. */
static void
print_refused_input(void *arg, const char *what, int rc)
{
	char err[512];

	(void)arg;
	fprintf(stderr, "laps-agent: %s: %s\n", what, laps_errstr(rc, err, sizeof err));
}

/* Whether [escrow] recipients are required, and what is sealed. */
static void
print_recipients_rule(const struct laps_conf *cfg)
{
	if (!laps_backend_conf_cleartext(cfg))
		printf("recipients: required (backend %s stores sealed records)\n",
		       laps_escrow_conf(cfg)->backend != NULL ? laps_escrow_conf(cfg)->backend
							      : "?");
	else if (laps_ldap_conf(cfg)->encrypt_to != NULL)
		printf("recipients: optional (ldap schema mslaps encrypts the password to %s "
		       "with DPAPI-NG)\n",
		       laps_ldap_conf(cfg)->encrypt_to);
	else if (laps_escrow_conf(cfg)->n_recipients == 0)
		printf("recipients: optional, none given (ldap schema %s stores the password in "
		       "clear; nothing is sealed)\n",
		       laps_ldap_schema_name(laps_ldap_conf(cfg)->schema));
	else
		printf("recipients: optional (ldap schema %s stores the password in clear)\n",
		       laps_ldap_schema_name(laps_ldap_conf(cfg)->schema));
}

static void
print_account_mgmt(const struct laps_conf *cfg)
{
	size_t i;

	printf("account state: %s%s\n",
	       laps_account_state_name(laps_agent_conf(cfg)->account_state),
	       laps_agent_conf(cfg)->allow_uid0 == LAPS_YES ? ", uid 0 allowed" : "");
	if (laps_agent_conf(cfg)->create_account != LAPS_YES) {
		printf("create account: no\n");
		return;
	}
	if (laps_agent_conf(cfg)->account_uid != LAPS_UID_UNSET)
		printf("create account: yes (uid %u", laps_agent_conf(cfg)->account_uid);
	else
		printf("create account: yes (system uid from login.defs");
	printf(", home %s, shell %s, groups",
	       laps_agent_conf(cfg)->account_home ? laps_agent_conf(cfg)->account_home : "none",
	       laps_agent_conf(cfg)->account_shell ? laps_agent_conf(cfg)->account_shell
						   : "/bin/sh");
	for (i = 0; i < laps_agent_conf(cfg)->n_account_groups; i++)
		printf(" %s", laps_agent_conf(cfg)->account_groups[i]);
	printf("%s)\n", laps_agent_conf(cfg)->n_account_groups == 0 ? " none" : "");
}

static int
cmd_check_config(struct laps_agent *a, const struct laps_conf *cfg)
{
	char desc[256], line[LAPS_PUBKEY_LINE_MAX], err[400];
	size_t i;
	int rc;

	if (laps_agent_enroll_hint(cfg) != 0)
		return EXIT_CONFIG;
	if (laps_agent_check_inputs(cfg, a->state_dir, print_refused_input, NULL) != 0)
		return EXIT_CONFIG;
	if ((rc = laps_account_create_check(laps_agent_conf(cfg)->account_home,
					    laps_agent_conf(cfg)->account_shell)) != 0) {
		fprintf(stderr, "laps-agent: %s\n", laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	if (laps_backend_check_files(cfg, print_refused_input, NULL) != 0)
		return EXIT_CONFIG;
	if (a->ops->check != NULL && (rc = a->ops->check(cfg)) != 0) {
		fprintf(stderr, "laps-agent: backend %s: %s\n", a->ops->name,
			laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	/* a backend whose open contacts nothing checks the rest itself (rest:
	 * the client certificate and its key are a pair) */
	if ((a->ops->caps & LAPS_BCAP_LOCALOPEN) && (rc = laps_agent_open_backend(a)) != 0) {
		fprintf(stderr, "laps-agent: backend %s: %s\n", a->ops->name,
			laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	if ((rc = laps_agent_load_keys(a)) != 0) {
		fprintf(stderr, "laps-agent: recipient keys: %s\n",
			laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	if ((rc = laps_account_ops_for(laps_agent_conf(cfg)->method)->load()) != 0) {
		fprintf(stderr, "laps-agent: %s\n", laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	printf("config: %s: OK\n", cfg->path != NULL ? cfg->path : "?");
	print_recipients_rule(cfg);
	print_account_mgmt(cfg);
	printf("device: %s\n", a->device);
	printf("accounts:");
	for (i = 0; i < laps_agent_conf(cfg)->n_accounts; i++)
		printf(" %s", laps_agent_conf(cfg)->accounts[i]);
	printf("\nmethod: %s (hash %s, cost %u)\n", laps_method_name(laps_agent_conf(cfg)->method),
	       laps_hash_name(laps_agent_conf(cfg)->hash), laps_agent_conf(cfg)->hash_cost);
	printf("backend: %s\n", a->ops->name);
	printf("password age: %lld s\n", (long long)laps_agent_conf(cfg)->password_age);
	for (i = 0; i < a->n_keys; i++) {
		if (laps_pubkey_format(&a->keys[i], line, sizeof line) == 0)
			printf("recipient: %s\n", line);
	}
	if ((rc = laps_passgen_describe(&a->policy, desc, sizeof desc)) != 0) {
		fprintf(stderr, "laps-agent: policy: %s\n", laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	printf("policy: %s\n", desc);
	printf("entropy: %.1f bits\n", laps_passgen_entropy_bits(&a->policy));
	if (laps_postauth_conf(cfg)->delay > 0)
		printf("post-auth: delay %lld s, action %s\n",
		       (long long)laps_postauth_conf(cfg)->delay,
		       laps_postauth_action_name(laps_postauth_conf(cfg)->action));
	else
		printf("post-auth: off\n");
	return EXIT_OK;
}

/* ---- status ---- */

static int
cmd_status(struct laps_agent *a, const struct laps_conf *cfg, bool json)
{
	struct laps_status *st;
	char err[512];
	int rc;

	if ((st = calloc(1, sizeof *st)) == NULL) {
		fprintf(stderr, "laps-agent: status: out of memory\n");
		return EXIT_INTERNAL;
	}
	laps_status_gather(a, cfg, st);
	rc = json ? laps_status_print_json(st, stdout) : laps_status_print_text(st, stdout);
	free(st);
	if (rc != 0) {
		fprintf(stderr, "laps-agent: %s\n", laps_errstr(rc, err, sizeof err));
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

/* ---- main ---- */

/* What the command line asked for. */
struct agent_opts {
	const char *cfgpath;
	const char *cmd;
	const char *account; /* rotate --account */
	bool postauth_only;  /* run --post-auth-only */
	bool json;           /* status --json */
	struct laps_enroll_opts enroll; /* enroll */
	unsigned lock_wait;
	int verbose;
};

/* The options before the command.  -1 to go on, or the exit status. */
static int
parse_global(int argc, char **argv, struct agent_opts *o)
{
	static const struct option gopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
	    {"wait", required_argument, NULL, 'w'},   {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0}};
	long long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "+c:vw:Vh", gopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->cfgpath = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'w':
			if (laps_parse_int64(optarg, 0, 3600, &v) != 0) {
				fprintf(stderr, "laps-agent: -w: 0..3600 seconds\n");
				return EXIT_USAGE;
			}
			o->lock_wait = (unsigned)v;
			break;
		case 'V':
			printf("laps-agent %s%s\n", LAPS_VERSION,
			       laps_fault_enabled() ? " (fault-injection)" : "");
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* The command's own options (argv[0] is the command).  -1 to go on, or
 * the exit status. */
static int
parse_command_opts(int argc, char **argv, struct agent_opts *o)
{
	static const struct option copts[] = {{"post-auth-only", no_argument, NULL, 'p'},
					      {"account", required_argument, NULL, 'a'},
					      {"json", no_argument, NULL, 'j'},
					      {"server", required_argument, NULL, 's'},
					      {"ca", required_argument, NULL, 'C'},
					      {"token-file", required_argument, NULL, 't'},
					      {"token-fd", required_argument, NULL, 'f'},
					      {"bootstrap-cert", required_argument, NULL, 'B'},
					      {"bootstrap-key", required_argument, NULL, 'K'},
					      {NULL, 0, NULL, 0}};
	long long v;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", copts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			o->postauth_only = true;
			break;
		case 'a':
			o->account = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 's':
			o->enroll.server = optarg;
			break;
		case 'C':
			o->enroll.ca_file = optarg;
			break;
		case 't':
			o->enroll.token_file = optarg;
			break;
		case 'f':
			if (laps_parse_int64(optarg, 0, 65535, &v) != 0) {
				fprintf(stderr, "laps-agent: --token-fd: a descriptor number\n");
				return EXIT_USAGE;
			}
			o->enroll.token_fd = (int)v;
			break;
		case 'B':
			o->enroll.boot_cert = optarg;
			break;
		case 'K':
			o->enroll.boot_key = optarg;
			break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

/* Does every option given belong to the command? */
static bool
options_fit(const struct agent_opts *o)
{
	bool enroll = strcmp(o->cmd, "enroll") == 0;
	int creds = (o->enroll.token_file != NULL) + (o->enroll.token_fd >= 0) +
		    (o->enroll.boot_cert != NULL || o->enroll.boot_key != NULL);

	if (strcmp(o->cmd, "run") != 0 && strcmp(o->cmd, "rotate") != 0 &&
	    strcmp(o->cmd, "status") != 0 && strcmp(o->cmd, "check-config") != 0 && !enroll)
		return false;
	if (enroll && creds != 1)
		return false; /* one of --token-file, --token-fd, --bootstrap-cert */
	if (enroll && (o->enroll.boot_cert != NULL) != (o->enroll.boot_key != NULL))
		return false; /* --bootstrap-cert and --bootstrap-key go together */
	if (!enroll && (o->enroll.server != NULL || o->enroll.ca_file != NULL || creds != 0))
		return false;
	return !(o->postauth_only && strcmp(o->cmd, "run") != 0) &&
	       !(o->account != NULL && strcmp(o->cmd, "rotate") != 0) &&
	       !(o->json && strcmp(o->cmd, "status") != 0);
}

/* Parse argv into *o.  Returns -1 to go on, or the exit status. */
static int
parse_args(int argc, char **argv, struct agent_opts *o)
{
	int rc;

	memset(o, 0, sizeof *o);
	o->cfgpath = LAPS_CONFIG_DEFAULT;
	o->lock_wait = LAPS_LOCK_WAIT_DEFAULT;
	o->enroll.token_fd = -1;
	if ((rc = parse_global(argc, argv, o)) != -1)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	o->cmd = argv[optind];
	if ((rc = parse_command_opts(argc - optind, argv + optind, o)) != -1)
		return rc;
	if (!options_fit(o)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

/* The command, with a loaded configuration and an initialised agent. */
static int
run_command(const struct agent_opts *o, struct laps_agent *agent, const struct laps_conf *cfg)
{
	struct laps_metrics_run mr;
	unsigned flags = 0;
	int ret = EXIT_OK;

	if (strcmp(o->cmd, "check-config") == 0)
		return cmd_check_config(agent, cfg);
	if (strcmp(o->cmd, "status") == 0)
		return cmd_status(agent, cfg, o->json);
	if (strcmp(o->cmd, "enroll") == 0)
		return laps_agent_enroll(agent, cfg, &o->enroll) == 0 ? EXIT_OK : EXIT_ESCROW;
	if (strcmp(o->cmd, "rotate") == 0)
		flags |= LAPS_RUN_FORCE;
	if (o->postauth_only)
		flags |= LAPS_RUN_POSTAUTH_ONLY;
	laps_metrics_run_begin(&mr);
	/* run and rotate: the mTLS certificate renewed when due; a failed
	 * renewal is logged and counted, and the rotation goes on with the
	 * current certificate */
	if (!o->postauth_only) {
		int r = laps_agent_renew_cert(agent, cfg);

		mr.cert_renewal = r > 0 ? 1 : r < 0 ? -1 : 0;
	}
	/* every failure has been logged where it happened (rotate.c) */
	if (laps_agent_run(agent, flags, o->account) != 0)
		ret = exit_for_stage(agent->stage);
	(void)laps_agent_metrics_write(agent, &mr, ret); /* logged; never the exit status */
	return ret;
}

/* Load and check the configuration, set the agent up, run the command. */
static int
run_configured(const struct agent_opts *o, struct laps_conf *cfg)
{
	const struct laps_backend_ops *ops;
	struct laps_agent agent;
	char err[512];
	size_t i;
	int rc, ret;

	if ((rc = laps_conf_load(cfg, o->cfgpath, 0)) != 0 ||
	    (rc = laps_agent_validate(cfg)) != 0) {
		log_event(LAPS_EV_CONFIG_INVALID, "configuration: %s",
			  laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	if ((rc = laps_backend_load(
		 laps_escrow_conf(cfg)->backend != NULL ? laps_escrow_conf(cfg)->backend : "file",
		 &ops)) != 0) {
		log_event(LAPS_EV_CONFIG_INVALID, "configuration: %s: %s", o->cfgpath,
			  laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	if (o->account != NULL) {
		for (i = 0; i < laps_agent_conf(cfg)->n_accounts; i++)
			if (strcmp(laps_agent_conf(cfg)->accounts[i], o->account) == 0)
				break;
		if (i == laps_agent_conf(cfg)->n_accounts) {
			fprintf(stderr, "laps-agent: account '%s' is not managed (accounts in %s)\n",
				o->account, o->cfgpath);
			return EXIT_USAGE;
		}
	}
	if ((rc = laps_agent_init(&agent, cfg, ops)) != 0) {
		fprintf(stderr, "laps-agent: %s\n", laps_errstr(rc, err, sizeof err));
		laps_agent_free(&agent);
		return EXIT_CONFIG;
	}
	agent.lock_wait = o->lock_wait;
#ifdef LAPS_FAULT_INJECTION
	{
		/* test builds only: a dry-run shutdown command */
		const char *s = getenv("LAPS_TEST_SHUTDOWN");

		if (s != NULL && s[0] == '/')
			agent.shutdown_path = s;
	}
#endif
	ret = run_command(o, &agent, cfg);
	laps_agent_free(&agent);
	return ret;
}

int
main(int argc, char **argv)
{
	struct agent_opts o;
	struct laps_conf cfg;
	char err[512];
	int rc, ret;

	laps_log_init("laps-agent", LAPS_LOG_TO_STDERR);
	laps_log_journal_auto(); /* under systemd: structured fields (docs/EVENTS.md) */
	if ((ret = parse_args(argc, argv, &o)) >= 0)
		return ret;
	if (o.verbose > 0)
		laps_log_set_level(o.verbose > 1 ? LAPS_LOG_DEBUG : LAPS_LOG_INFO);
	if (laps_secure_process() != 0) {
		fprintf(stderr, "laps-agent: cannot secure the process\n");
		return EXIT_INTERNAL;
	}
	laps_clearerr();
	if ((rc = laps_conf_init(&cfg, &laps_agent_schema)) != 0) {
		fprintf(stderr, "laps-agent: %s\n", laps_errstr(rc, err, sizeof err));
		return EXIT_INTERNAL;
	}
	ret = run_configured(&o, &cfg);
	laps_conf_free(&cfg);
	return ret;
}
