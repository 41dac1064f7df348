/*
 * account.c — the local account method named by laps.conf's [agent] method:
 * shadow (account_shadow.c) or pam (account_pam.c).
 */
#include "config.h"

#include "agent/account.h"

const struct laps_account_ops *
laps_account_ops_for(enum laps_method m)
{
	return m == LAPS_METHOD_PAM ? &laps_account_pam : &laps_account_shadow;
}
