/*
 * test_agent_pammod.c — pam_agenttest.so, a PAM password module for the
 * agent's pam_wrapper tests only.
 *
 * pam_wrapper's pam_matrix always asks for (and checks) the old password
 * in pam_chauthtok's preliminary phase, which no rotation agent can answer
 * (it never knows the current password).  This module behaves like
 * pam_unix called by root instead: no old password, "New password:" and
 * "Retype new password:" (both PAM_PROMPT_ECHO_OFF), then it stores the
 * new password in a pam_matrix passdb file ("user:password:service"), so
 * pam_matrix's auth module verifies it afterwards.
 *
 * Options: passdb=FILE (required); minlen=N (refuse shorter passwords
 * with a pwquality-like PAM_ERROR_MSG and PAM_AUTHTOK_ERR); echo (ask with
 * PAM_PROMPT_ECHO_ON — an unexpected prompt for the agent).
 */
#include "config.h"

#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opts {
	const char *passdb;
	long minlen;
	int echo;
};

static void
parse_opts(int argc, const char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof *o);
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "passdb=", 7) == 0)
			o->passdb = argv[i] + 7;
		else if (strncmp(argv[i], "minlen=", 7) == 0)
			o->minlen = strtol(argv[i] + 7, NULL, 10);
		else if (strcmp(argv[i], "echo") == 0)
			o->echo = 1;
	}
}

static int
ask(pam_handle_t *pamh, int style, const char *prompt, char **answer)
{
	const struct pam_conv *conv;
	struct pam_message m = {style, prompt};
	const struct pam_message *mp = &m;
	struct pam_response *r = NULL;
	int rc;

	*answer = NULL;
	if ((rc = pam_get_item(pamh, PAM_CONV, (const void **)&conv)) != PAM_SUCCESS)
		return rc;
	rc = conv->conv(1, &mp, &r, conv->appdata_ptr);
	if (rc != PAM_SUCCESS)
		return rc;
	if (r == NULL || r->resp == NULL) {
		free(r);
		return PAM_CONV_ERR;
	}
	*answer = r->resp;
	free(r);
	return PAM_SUCCESS;
}

static void
say(pam_handle_t *pamh, const char *msg)
{
	char *ignored = NULL;

	(void)ask(pamh, PAM_ERROR_MSG, msg, &ignored);
	free(ignored);
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

/* Rewrite passdb with user's password replaced (or appended). */
static int
store(const char *passdb, const char *user, const char *service, const char *pw)
{
	char tmp[4096], line[1024];
	FILE *in, *out;
	size_t ul = strlen(user);
	int found = 0;

	if (snprintf(tmp, sizeof tmp, "%s.new", passdb) >= (int)sizeof tmp)
		return PAM_SYSTEM_ERR;
	if ((out = fopen(tmp, "w")) == NULL)
		return PAM_SYSTEM_ERR;
	if ((in = fopen(passdb, "r")) != NULL) {
		while (fgets(line, sizeof line, in) != NULL) {
			if (strncmp(line, user, ul) == 0 && line[ul] == ':') {
				fprintf(out, "%s:%s:%s\n", user, pw, service);
				found = 1;
			} else {
				fputs(line, out);
			}
		}
		fclose(in);
	}
	if (!found)
		fprintf(out, "%s:%s:%s\n", user, pw, service);
	if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
		fclose(out);
		return PAM_SYSTEM_ERR;
	}
	fclose(out);
	return rename(tmp, passdb) == 0 ? PAM_SUCCESS : PAM_SYSTEM_ERR;
}

PAM_EXTERN int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const char *user = NULL, *service = NULL;
	char *a = NULL, *b = NULL, msg[128];
	struct opts o;
	int style, rc;

	parse_opts(argc, argv, &o);
	if (o.passdb == NULL)
		return PAM_SYSTEM_ERR;
	if (flags & PAM_PRELIM_CHECK)
		return PAM_SUCCESS; /* root: no old password */
	if (pam_get_item(pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS || user == NULL ||
	    pam_get_item(pamh, PAM_SERVICE, (const void **)&service) != PAM_SUCCESS ||
	    service == NULL)
		return PAM_USER_UNKNOWN;
	style = o.echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF;
	if ((rc = ask(pamh, style, "New password: ", &a)) != PAM_SUCCESS)
		goto out;
	if (o.minlen > 0 && (long)strlen(a) < o.minlen) {
		snprintf(msg, sizeof msg,
			 "BAD PASSWORD: The password is shorter than %ld characters", o.minlen);
		say(pamh, msg);
		rc = PAM_AUTHTOK_ERR;
		goto out;
	}
	if ((rc = ask(pamh, style, "Retype new password: ", &b)) != PAM_SUCCESS)
		goto out;
	if (strcmp(a, b) != 0) {
		say(pamh, "Sorry, passwords do not match.");
		rc = PAM_AUTHTOK_ERR;
		goto out;
	}
	rc = store(o.passdb, user, service, a);
out:
	wipe_free(a);
	wipe_free(b);
	return rc;
}
