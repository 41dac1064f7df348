/*
 * fault.c — fault injection (tests only; see fault.h).
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "agent/fault.h"
#include "escrow/err.h"
#include "escrow/log.h"

const char *const laps_fault_steps[] = {
    "after_lock",	      /* run lock taken, nothing else done */
    "after_journal",	      /* journal written in phase escrowing */
    "after_escrow_write",     /* pending record written to the backend */
    "after_journal_escrowed", /* journal switched to phase escrowed */
    "before_local_set",	      /* about to change the local account */
    "after_local_set",	      /* account changed and verified, not yet confirmed */
    "after_confirm",	      /* backend record confirmed */
    "after_state",	      /* state file updated, journal still present */
    "after_journal_removed",  /* rotation complete */
    /* laps-agent enroll and the certificate renewal of run/rotate
     * (backends/rest_est.c, in the order a flow meets them) */
    "est_after_recover",       /* an interrupted replacement finished or undone */
    "est_after_keygen",	       /* new key made, in memory only */
    "est_csr_sent",	       /* request sent, answer not read (the server may have issued) */
    "est_after_answer",	       /* answer received, not checked */
    "est_after_check",	       /* answer checked: a certificate for the new key */
    "est_after_cert_new",      /* CERT.new written */
    "est_after_key_new",       /* KEY.new written (0600) */
    "est_after_key_rename",    /* KEY.new renamed over KEY: the commit point */
    "est_after_cert_rename",   /* CERT.new renamed over CERT: replaced */
    "est_recover_found",       /* recovery found a CERT.new */
    "est_recover_key_removed", /* recovery undoing: KEY.new removed, CERT.new not yet */
    NULL};

#ifdef LAPS_FAULT_INJECTION
bool
laps_fault_enabled(void)
{
	return true;
}

int
laps_fault(const char *step)
{
	const char *spec = getenv("LAPS_FAULT"), *p, *colon, *end;
	size_t sl = strlen(step);

	if (spec == NULL)
		return 0;
	for (p = spec; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon == NULL || (size_t)(colon - p) != sl || memcmp(p, step, sl) != 0)
			continue;
		colon++;
		if ((size_t)(end - colon) == 4 && memcmp(colon, "kill", 4) == 0) {
			log_notice("fault injection: SIGKILL at %s", step);
			raise(SIGKILL);
		} else if ((size_t)(end - colon) == 4 && memcmp(colon, "stop", 4) == 0) {
			log_notice("fault injection: SIGSTOP at %s", step);
			raise(SIGSTOP);
		} else if ((size_t)(end - colon) == 4 && memcmp(colon, "fail", 4) == 0) {
			return laps_seterr(LAPS_ERR_FAULT, "injected failure at %s", step);
		}
	}
	return 0;
}
#else
bool
laps_fault_enabled(void)
{
	return false;
}
#endif
