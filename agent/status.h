/*
 * status.h — `laps-agent status`: gathering apart from printing.
 *
 * laps_status_gather() collects, for every managed account, what the state
 * file, the journal, the usage marker and the backend say into a
 * laps_status; the text and JSON printers only render it (docs/AGENT.md
 * describes the JSON).  Nothing here holds a secret: the journal's password
 * is dropped while gathering.
 */
#ifndef LAPS_AGENT_STATUS_H
#define LAPS_AGENT_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/account.h"
#include "agent/cert_state.h"
#include "agent/journal.h"
#include "agent/rotate.h"
#include "agent/state.h"
#include "escrow/conf.h"
#include "escrow/marker.h"
#include "escrow/record.h"

#define LAPS_STATUS_ERR_MAX 400

/* One managed account. */
struct laps_status_account {
	char account[LAPS_ACCOUNT_MAX + 1];
	/* the local account as inspect sees it: lock and expiry (issue 13) */
	bool local_ok;
	struct laps_account_info local;
	char local_error[LAPS_STATUS_ERR_MAX];
	bool have_state; /* state.<account> read */
	struct laps_agent_state state;
	bool have_journal; /* a rotation is in flight */
	enum laps_journal_phase journal_phase;
	char journal_rotation_id[LAPS_ROTID_HEX + 1];
	bool have_marker; /* used/<account> read */
	int64_t last_use; /* marker: latest of opened/closed */
	char last_use_service[LAPS_MARKER_FIELD_MAX + 1];
	bool have_deadline; /* a post-auth rotation is owed at deadline */
	int64_t deadline;
	bool have_record; /* the backend's current record (metadata only) */
	char record_rotation_id[LAPS_ROTID_HEX + 1];
	enum laps_record_state record_state;
	int64_t record_rotated_at, record_expires_at;
	char backend_error[LAPS_STATUS_ERR_MAX]; /* "" = the read worked (or no record) */
};

struct laps_status {
	char device[LAPS_DEVICE_MAX + 1];
	char backend[32];
	bool reachable;				 /* the backend could be opened */
	char backend_error[LAPS_STATUS_ERR_MAX]; /* why not */
	struct laps_cert_status cert;		 /* the mTLS certificate (rest; issue 23) */
	size_t n;
	struct laps_status_account accounts[LAPS_CONFIG_MAX_LIST];
};

/* Fill *st (no output).  Opens the backend when it can; every failure is
 * recorded in *st, never returned: status reports, it does not fail. */
void laps_status_gather(struct laps_agent *a, const struct laps_conf *cfg, struct laps_status *st);

/* The local files only (state, journal, usage marker and the post-auth
 * deadline) of s->account; also used by the metrics (agent/metrics.c). */
void laps_status_gather_local(const struct laps_agent *a, const struct laps_conf *cfg,
			      struct laps_status_account *s);

/* Render *st as text or as a JSON document (one object, pretty-printed).
 * 0, or LAPS_ERR_NOMEM / LAPS_ERR_IO. */
int laps_status_print_text(const struct laps_status *st, FILE *f)
    __attribute__((warn_unused_result));
int laps_status_print_json(const struct laps_status *st, FILE *f)
    __attribute__((warn_unused_result));

#endif
