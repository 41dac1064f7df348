/*
 * main.c — laps-agent: command line, exit codes, status and check-config.
 *
 * The only place where LAPS_ERR_* codes and failure stages become exit
 * statuses (see laps-agent(8)).
 */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/due.h"
#include "agent/fault.h"
#include "agent/inputs.h"
#include "agent/journal.h"
#include "agent/lock.h"
#include "agent/passgen.h"
#include "agent/postauth.h"
#include "agent/rotate.h"
#include "agent/state.h"
#include "backends/registry.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/log.h"
#include "escrow/marker.h"
#include "escrow/secret.h"

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

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "never");
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

static int
cmd_check_config(struct laps_agent *a, const struct laps_config *cfg)
{
	char desc[256], line[LAPS_PUBKEY_LINE_MAX], err[400];
	size_t i;
	int rc;

	if (laps_agent_check_inputs(cfg, a->state_dir, print_refused_input, NULL) != 0)
		return EXIT_CONFIG;
	if ((rc = laps_agent_load_keys(a)) != 0) {
		fprintf(stderr, "laps-agent: recipient keys: %s\n",
			laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	printf("config: %s: OK\n", cfg->path != NULL ? cfg->path : "?");
	printf("device: %s\n", a->device);
	printf("accounts:");
	for (i = 0; i < cfg->n_accounts; i++)
		printf(" %s", cfg->accounts[i]);
	printf("\nmethod: %s (hash %s, cost %u)\n", laps_method_name(cfg->method),
	       laps_hash_name(cfg->hash), cfg->hash_cost);
	printf("backend: %s\n", a->ops->name);
	printf("password age: %lld s\n", (long long)cfg->password_age);
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
	if (cfg->postauth_delay > 0)
		printf("post-auth: delay %lld s, action %s\n", (long long)cfg->postauth_delay,
		       laps_postauth_action_name(cfg->postauth_action));
	else
		printf("post-auth: off\n");
	return EXIT_OK;
}

/* ---- status ---- */

static int
cmd_status(struct laps_agent *a, const struct laps_config *cfg, bool json)
{
	json_object *root = NULL, *arr = NULL, *o;
	struct laps_agent_state st;
	struct laps_journal j;
	struct laps_marker m;
	struct laps_record rec;
	struct laps_version ver;
	char path[1200], t1[32], t2[32], err[400], berr[400] = "";
	bool have_state, have_journal, have_marker, have_rec, reachable;
	int64_t deadline;
	size_t i;
	int rc, brc;

	laps_clearerr();
	brc = laps_agent_open_backend(a);
	reachable = brc == 0;
	if (!reachable)
		laps_errstr(brc, berr, sizeof berr);
	if (json) {
		root = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(root, "device", json_object_new_string(a->device));
		json_object_object_add(root, "backend", json_object_new_string(a->ops->name));
		json_object_object_add(root, "accounts", arr);
	} else {
		printf("device: %s\nbackend: %s\n", a->device, a->ops->name);
	}
	for (i = 0; i < cfg->n_accounts; i++) {
		const char *acc = cfg->accounts[i];

		have_state = have_journal = have_marker = have_rec = false;
		laps_journal_init(&j);
		laps_record_init(&rec);
		if (laps_state_path(a->state_dir, acc, path, sizeof path) == 0 &&
		    laps_state_load(path, acc, &st) == 0)
			have_state = true;
		if (laps_journal_path(a->state_dir, acc, path, sizeof path) == 0 &&
		    laps_journal_load(path, &j) == 0)
			have_journal = true;
		if (laps_marker_path(a->state_dir, acc, path, sizeof path) == 0 &&
		    laps_marker_load(path, &m) == 0)
			have_marker = true;
		err[0] = '\0';
		if (reachable) {
			laps_clearerr();
			rc = laps_backend_read(a->backend, a->device, acc, &rec, &ver);
			if (rc == 0)
				have_rec = true;
			else if (rc != LAPS_ERR_NOTFOUND)
				laps_errstr(rc, err, sizeof err);
		}
		if (json) {
			o = json_object_new_object();
			json_object_object_add(o, "account", json_object_new_string(acc));
			json_object_object_add(o, "state_file",
					       json_object_new_boolean(have_state));
			if (have_state) {
				json_object_object_add(o, "last_rotation_id",
						       json_object_new_string(st.rotation_id));
				json_object_object_add(o, "last_rotation",
						       json_object_new_int64(st.rotated_at));
				json_object_object_add(o, "local_expires",
						       json_object_new_int64(st.expires_at));
				json_object_object_add(o, "last_error",
						       st.last_error_at
							   ? json_object_new_string(st.last_error)
							   : NULL);
				json_object_object_add(o, "last_error_at",
						       json_object_new_int64(st.last_error_at));
			}
			json_object_object_add(
			    o, "pending_journal",
			    have_journal ? json_object_new_string(laps_journal_phase_name(j.phase))
					 : NULL);
			if (have_journal)
				json_object_object_add(o, "pending_rotation_id",
						       json_object_new_string(j.rotation_id));
			json_object_object_add(o, "backend_reachable",
					       json_object_new_boolean(reachable));
			if (!reachable)
				json_object_object_add(o, "backend_error",
						       json_object_new_string(berr));
			else if (err[0])
				json_object_object_add(o, "backend_error",
						       json_object_new_string(err));
			if (have_rec) {
				json_object_object_add(o, "record_rotation_id",
						       json_object_new_string(rec.rotation_id));
				json_object_object_add(
				    o, "record_state",
				    json_object_new_string(laps_record_state_name(rec.state)));
				json_object_object_add(o, "expires",
						       json_object_new_int64(rec.expires_at));
				json_object_object_add(o, "rotated_at",
						       json_object_new_int64(rec.rotated_at));
			} else if (reachable && err[0] == '\0') {
				json_object_object_add(o, "record_state",
						       json_object_new_string("none"));
			}
			if (have_marker) {
				json_object_object_add(o, "last_use",
						       json_object_new_int64(m.opened > m.closed
										 ? m.opened
										 : m.closed));
				if (laps_due_postauth_deadline(&m, have_state ? &st : NULL,
							       cfg->postauth_delay, &deadline))
					json_object_object_add(o, "postauth_deadline",
							       json_object_new_int64(deadline));
			}
			json_object_array_add(arr, o);
		} else {
			printf("account: %s\n", acc);
			if (have_state) {
				fmt_time(st.rotated_at, t1, sizeof t1);
				printf("  last rotation (state file): %s%s%s%s\n", t1,
				       st.rotation_id[0] ? " (id " : "", st.rotation_id,
				       st.rotation_id[0] ? ")" : "");
			} else {
				printf("  last rotation (state file): never\n");
			}
			if (!reachable)
				printf("  backend: unreachable: %s\n", berr);
			else if (err[0])
				printf("  backend: error: %s\n", err);
			else if (have_rec) {
				fmt_time(rec.expires_at, t1, sizeof t1);
				fmt_time(rec.rotated_at, t2, sizeof t2);
				printf("  escrow (backend): %s, rotated %s, expires %s (id %s)\n",
				       laps_record_state_name(rec.state), t2, t1, rec.rotation_id);
			} else
				printf("  escrow (backend): no record\n");
			if (have_journal)
				printf("  pending journal: phase %s, rotation %s\n",
				       laps_journal_phase_name(j.phase), j.rotation_id);
			else
				printf("  pending journal: none\n");
			if (have_state && st.last_error_at != 0) {
				fmt_time(st.last_error_at, t1, sizeof t1);
				printf("  last error: %s: %s\n", t1, st.last_error);
			} else
				printf("  last error: none\n");
			if (have_marker) {
				fmt_time(m.opened > m.closed ? m.opened : m.closed, t1, sizeof t1);
				printf("  last use: %s via %s\n", t1,
				       m.service[0] ? m.service : "?");
				if (laps_due_postauth_deadline(&m, have_state ? &st : NULL,
							       cfg->postauth_delay, &deadline)) {
					fmt_time(deadline, t2, sizeof t2);
					printf("  post-auth rotation due: %s\n", t2);
				}
			}
		}
		laps_journal_clear(&j);
		laps_record_clear(&rec);
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(
				   root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
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
	unsigned lock_wait;
	int verbose;
};

/* Parse argv into *o.  Returns -1 to go on, or the exit status. */
static int
parse_args(int argc, char **argv, struct agent_opts *o)
{
	static const struct option gopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
	    {"wait", required_argument, NULL, 'w'},   {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0}};
	static const struct option copts[] = {{"post-auth-only", no_argument, NULL, 'p'},
					      {"account", required_argument, NULL, 'a'},
					      {"json", no_argument, NULL, 'j'},
					      {NULL, 0, NULL, 0}};
	long long v;
	int ch;

	memset(o, 0, sizeof *o);
	o->cfgpath = LAPS_CONFIG_DEFAULT;
	o->lock_wait = LAPS_LOCK_WAIT_DEFAULT;
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
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	o->cmd = argv[optind];
	argc -= optind;
	argv += optind;
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
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc ||
	    (strcmp(o->cmd, "run") != 0 && strcmp(o->cmd, "rotate") != 0 &&
	     strcmp(o->cmd, "status") != 0 && strcmp(o->cmd, "check-config") != 0) ||
	    (o->postauth_only && strcmp(o->cmd, "run") != 0) ||
	    (o->account != NULL && strcmp(o->cmd, "rotate") != 0) ||
	    (o->json && strcmp(o->cmd, "status") != 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

/* The command, with a loaded configuration and an initialised agent. */
static int
run_command(const struct agent_opts *o, struct laps_agent *agent, const struct laps_config *cfg)
{
	unsigned flags = 0;

	if (strcmp(o->cmd, "check-config") == 0)
		return cmd_check_config(agent, cfg);
	if (strcmp(o->cmd, "status") == 0)
		return cmd_status(agent, cfg, o->json);
	if (strcmp(o->cmd, "rotate") == 0)
		flags |= LAPS_RUN_FORCE;
	if (o->postauth_only)
		flags |= LAPS_RUN_POSTAUTH_ONLY;
	/* every failure has been logged where it happened (rotate.c) */
	if (laps_agent_run(agent, flags, o->account) != 0)
		return exit_for_stage(agent->stage);
	return EXIT_OK;
}

/* Load and check the configuration, set the agent up, run the command. */
static int
run_configured(const struct agent_opts *o, struct laps_config *cfg)
{
	const struct laps_backend_ops *ops;
	struct laps_agent agent;
	char err[512];
	size_t i;
	int rc, ret;

	if ((rc = laps_config_load(cfg, o->cfgpath, 0)) != 0 ||
	    (rc = laps_config_validate(cfg, LAPS_USE_AGENT)) != 0) {
		fprintf(stderr, "laps-agent: configuration: %s\n", laps_errstr(rc, err, sizeof err));
		return EXIT_CONFIG;
	}
	if ((ops = laps_backend_lookup(cfg->backend != NULL ? cfg->backend : "file")) == NULL) {
		fprintf(stderr, "laps-agent: configuration: %s: unknown backend '%s' (known: %s)\n",
			o->cfgpath, cfg->backend != NULL ? cfg->backend : "", laps_backend_names());
		return EXIT_CONFIG;
	}
	if (o->account != NULL) {
		for (i = 0; i < cfg->n_accounts; i++)
			if (strcmp(cfg->accounts[i], o->account) == 0)
				break;
		if (i == cfg->n_accounts) {
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
	struct laps_config cfg;
	char err[512];
	int rc, ret;

	laps_log_init("laps-agent", LAPS_LOG_TO_STDERR);
	if ((ret = parse_args(argc, argv, &o)) >= 0)
		return ret;
	if (o.verbose > 0)
		laps_log_set_level(o.verbose > 1 ? LAPS_LOG_DEBUG : LAPS_LOG_INFO);
	if (laps_secure_process() != 0) {
		fprintf(stderr, "laps-agent: cannot secure the process\n");
		return EXIT_INTERNAL;
	}
	laps_clearerr();
	if ((rc = laps_config_init(&cfg)) != 0) {
		fprintf(stderr, "laps-agent: %s\n", laps_errstr(rc, err, sizeof err));
		return EXIT_INTERNAL;
	}
	ret = run_configured(&o, &cfg);
	laps_config_free(&cfg);
	return ret;
}
