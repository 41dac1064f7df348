/*
 * events.h — the stable event identifiers of laps-agent, pam_laps and
 * laps-escrowd: one row per outcome an administrator may alert on.
 *
 * An id never changes meaning and is never reused; a row may be added, and
 * one that is no longer emitted stays here (and in docs/EVENTS.md) marked
 * "retired" in its meaning.  Ranges: 1000-1999 laps-agent, 2000-2999
 * pam_laps, 3000-3999 laps-escrowd.
 *
 * The severity is the level the event is always logged at (log_event() takes
 * it from this table, so the documentation cannot disagree with the log).
 * message_id is the journald MESSAGE_ID (32 lower-case hex digits, a random
 * 128-bit id fixed per event, as systemd's catalog uses them).
 *
 * docs/EVENTS.md repeats this table; tests/unit/test_events checks that the
 * two agree row for row (`test_events --markdown` prints the table).
 *
 *   X(id, NAME, severity, message_id, meaning, suggested action)
 */
#ifndef LAPS_EVENTS_H
#define LAPS_EVENTS_H

#include <stddef.h>

#include "escrow/log.h"

#define LAPS_EVENTS(X)                                                                             \
	/* ---- laps-agent ---- */                                                                 \
	X(1001, ROTATED, LAPS_LOG_NOTICE, "4d14839851524dc8a09900c5b863d4bc",                      \
	  "The password was rotated: escrowed, set on the account, verified, confirmed.", "None.") \
	X(1002, ROTATION_RECOVERED, LAPS_LOG_NOTICE, "2f88b23a1627439c90a9389f61b85430",           \
	  "A rotation interrupted by an earlier run was completed from its journal.",              \
	  "None; if it repeats, look for the earlier run's failure.")                              \
	X(1003, ROTATION_RESUMING, LAPS_LOG_NOTICE, "2b6b572203114b7b91290cd680664818",            \
	  "A journal left by an interrupted run was found; recovery starts.",                      \
	  "None; a 1002 or 1004 (or an error) follows.")                                           \
	X(1004, JOURNAL_DROPPED, LAPS_LOG_NOTICE, "72ea3535cdeb4ba583bb477c76182f41",              \
	  "An interrupted rotation never reached the escrow; its journal was dropped and the "     \
	  "local password was never changed.",                                                     \
	  "None; the account is rotated afresh when due.")                                         \
	X(1005, POSTAUTH_ROTATION, LAPS_LOG_NOTICE, "026f7822a60c4fb0b1a3bad7b8d30e50",            \
	  "The password was rotated because the account was used; the configured "                 \
	  "post-authentication action follows.",                                                   \
	  "None; the message names who used the account and from where.")                          \
	X(1006, ROTATION_DUE, LAPS_LOG_INFO, "122836b3405b4cfc987bff2fe5bdbc9d",                   \
	  "A rotation is due (the reason is in the message).", "None.")                            \
	X(1007, JOURNAL_TEMP_REMOVED, LAPS_LOG_NOTICE, "adafa8259e3041f7a27f833fc7ae4f75",         \
	  "Temporaries of the rotation journal left by a killed run were overwritten and "         \
	  "removed.",                                                                              \
	  "None; look for why the earlier run was killed.")                                        \
	X(1010, ESCROW_FAILED, LAPS_LOG_ERR, "84b9a21adb0d4cf1ad78aa1ae3b9d98c",                   \
	  "Writing the new password to the escrow failed; the local password is unchanged.",       \
	  "Check the backend (reachability, credentials, access rights); the next run "            \
	  "retries.")                                                                              \
	X(1011, BACKEND_READ_FAILED, LAPS_LOG_ERR, "029bae3abc204f75a771c5abe4be478a",             \
	  "The escrow record could not be read from the backend; nothing was changed.",            \
	  "Check the backend's reachability and the agent's credentials.")                         \
	X(1012, CONFIRM_FAILED, LAPS_LOG_ERR, "ca380e4ae3fd41dcbbed0b71d1cc984c",                  \
	  "The local password was set but confirming the escrow record failed; the record "        \
	  "stays pending (it holds the new password).",                                            \
	  "Check the backend; the next run confirms. laps-get shows the pending password.")        \
	X(1013, RECOVERY_BACKEND_FAILED, LAPS_LOG_ERR, "69b607409ef045ef978583780dfc0eac",         \
	  "Recovering an interrupted rotation needs the backend, which failed; the journal is "    \
	  "kept and the local password untouched.",                                                \
	  "Check the backend; the next run recovers.")                                             \
	X(1020, LOCAL_SET_FAILED, LAPS_LOG_ERR, "cecdcb7e4abc485eb288ea4c23fa9a6f",                \
	  "Setting or verifying the local password failed; the escrow keeps the password the "     \
	  "account still has and the rotation stays pending.",                                     \
	  "Check the account method (shadow file, PAM stack, password policy); the next run "      \
	  "retries.")                                                                              \
	X(1021, ACCOUNT_UNUSABLE, LAPS_LOG_ERR, "e4217225f1c241bd8f931d89a59257c2",                \
	  "The managed account cannot be rotated (missing, or its password entry unusable).",      \
	  "Create the account or fix its entry, or remove it from [agent] accounts.")              \
	X(1030, JOURNAL_BAD, LAPS_LOG_ERR, "9f828b4885da49579aa2ee8e607de98d",                     \
	  "The rotation journal cannot be read or belongs to another account; it is left in "      \
	  "place and the account is not rotated.",                                                 \
	  "Inspect the journal in the state directory (see laps-agent(8)); remove it only "        \
	  "after checking the escrow.")                                                            \
	X(1031, JOURNAL_WRITE_FAILED, LAPS_LOG_ERR, "b5844058bc21429f9c7023f08742d376",            \
	  "The rotation journal could not be written, updated or removed.",                        \
	  "Check the state directory (space, permissions, file system errors).")                   \
	X(1032, STATE_WRITE_FAILED, LAPS_LOG_ERR, "884b0abbb93c409e8a57aa7954dc2a82",              \
	  "The per-account state file could not be written.",                                      \
	  "Check the state directory (space, permissions, file system errors).")                   \
	X(1033, STATE_UNREADABLE, LAPS_LOG_WARNING, "a482aa1e3497416ca2768a56612fe4fd",            \
	  "The per-account state file is unreadable and is ignored (the account is rotated).",     \
	  "None if a rotation follows; otherwise check the state directory.")                      \
	X(1034, MARKER_UNREADABLE, LAPS_LOG_WARNING, "2414619d56394c62baa995d83d98115b",           \
	  "The usage marker written by pam_laps is unreadable and is ignored.",                    \
	  "Check the state directory's used/ folder.")                                             \
	X(1040, KEYS_FAILED, LAPS_LOG_ERR, "833b2809106842188a42623fc31d4078",                     \
	  "The recipients' public keys could not be loaded; nothing was changed.",                 \
	  "Fix [escrow] recipients (laps-agent check-config).")                                    \
	X(1041, PASSGEN_FAILED, LAPS_LOG_ERR, "2e1c5bdb97d64f82b07f4ebb29a9df6e",                  \
	  "Generating a password failed; nothing was changed.",                                    \
	  "Check the [password] policy (laps-agent check-config).")                                \
	X(1042, CONFIG_INVALID, LAPS_LOG_ERR, "335e4bc5d24e43359fa2b7339a47e6d8",                  \
	  "The configuration is invalid; the agent did nothing.",                                  \
	  "Fix the file and line named in the message (laps-agent check-config).")                 \
	X(1043, LOCKED, LAPS_LOG_ERR, "6945d6c14117457eb69a64906a6c78c8",                          \
	  "Another laps-agent holds the run lock; this run did nothing.",                          \
	  "None if it is rare; if it repeats, look for a hung agent.")                             \
	X(1044, RUN_FAILED, LAPS_LOG_ERR, "b08863ed715543a8becdf333e442c012",                      \
	  "The run failed at a step no other event describes; the message names the error.",       \
	  "Read the error; laps-agent status shows the state of each account.")                    \
	X(1045, INPUT_REFUSED, LAPS_LOG_ERR, "1d0164fa530f44d69a4486fa2035bd34",                   \
	  "Running as root, an input (configuration, key, CA file, state directory) is not "       \
	  "root-owned or is writable by others; the agent did nothing.",                           \
	  "Fix the owner and mode of the file the message names.")                                 \
	X(1050, POSTAUTH_ACTION_FAILED, LAPS_LOG_ERR, "88fd24eee7254d1c919e102e5f4e2c24",          \
	  "The password was rotated after use, but ending the sessions or scheduling the "         \
	  "reboot failed.",                                                                        \
	  "End the account's sessions by hand; check loginctl/shutdown.")                          \
	X(1051, SESSION_END_INCOMPLETE, LAPS_LOG_WARNING, "c4e0239688ed4d06a13549ab73e2726b",      \
	  "loginctl terminate-user failed; the sessions' processes were signalled directly.",      \
	  "None if the sessions ended; check systemd-logind otherwise.")                           \
	X(1060, METRICS_WRITE_FAILED, LAPS_LOG_WARNING, "5fdd14f30ad34474b24a6823f8ba17f3",        \
	  "The metrics file ([agent] metrics_file) could not be written.",                         \
	  "Check the path and its directory; monitoring sees stale values.")                       \
	X(1070, ACCOUNT_CREATED, LAPS_LOG_NOTICE, "c052d057dfe0435fbd922df88ebe4b4c",              \
	  "The managed account did not exist and was created ([agent] create_account).",           \
	  "None; its first password is set by the rotation that follows.")                         \
	X(1071, ACCOUNT_LOCK_CHANGED, LAPS_LOG_NOTICE, "9ac19d69ec024c0a813f2b473c88a3be",         \
	  "The managed account's password lock was set as [agent] account_state says.",            \
	  "None; the password and its escrow are unchanged.")                                      \
	X(1080, CERT_ENROLLED, LAPS_LOG_NOTICE, "fa1648ca595d4ae09b690eabc107df33",                \
	  "laps-agent enroll got a client certificate over EST and stored it with its new key.",   \
	  "None.")                                                                                 \
	X(1081, CERT_ENROLL_FAILED, LAPS_LOG_ERR, "cd1673a1ad7448cb9074ddb46212ddc6",              \
	  "laps-agent enroll failed; nothing was written (the message names the cause).",          \
	  "Fix the cause (token, server, CA file) and run laps-agent enroll again.")               \
	X(1082, CERT_RENEWED, LAPS_LOG_NOTICE, "29a72eac1f34414580408e994ea7e634",                 \
	  "The client certificate was renewed over EST (simplereenroll) with a new key.", "None.") \
	X(1083, CERT_RENEWAL_FAILED, LAPS_LOG_WARNING, "7c18691152384706801aa80dde6d3a14",         \
	  "Renewing the client certificate failed; the current one is kept and the run goes on.",  \
	  "Check the server; re-enroll before the certificate expires.")                           \
	X(1084, CERT_EXPIRED, LAPS_LOG_ERR, "732fa58610424e868920e15bd179c5c6",                    \
	  "The client certificate has expired: it can no longer be renewed (simplereenroll needs " \
	  "a valid one) and the backend refuses it.",                                              \
	  "Re-enroll the device: an admin allows it (laps-get device reenroll), then laps-agent "  \
	  "enroll with a new token.")                                                              \
	/* ---- pam_laps ---- */                                                                   \
	X(2001, ACCOUNT_USED, LAPS_LOG_NOTICE, "55a8dcd300ac49d0bfae056a8d8f713c",                 \
	  "A session of a managed account was opened (who, from where); the agent rotates the "    \
	  "password after the post-authentication delay.",                                         \
	  "None; alert if the account should not be used.")                                        \
	X(2002, SESSION_CLOSED, LAPS_LOG_INFO, "14d15a223888460aa5b5b8723bc79544",                 \
	  "A session of a managed account was closed.", "None.")                                   \
	X(2003, USE_NOT_RECORDED, LAPS_LOG_ERR, "00c53042d5c24023851a7404513dd8ad",                \
	  "The use of a managed account could not be recorded; no post-authentication "            \
	  "rotation will follow it (the login itself was not refused).",                           \
	  "Check the state directory; rotate by hand (laps-agent rotate).")                        \
	X(2004, PAM_CONFIG_FAILED, LAPS_LOG_ERR, "8d8a915903344a5295033545909a52de",               \
	  "pam_laps could not initialise or read laps.conf; no use is recorded.",                  \
	  "Fix laps.conf (laps-agent check-config) or the module's arguments.")                    \
	X(2005, PAM_BAD_ARGUMENT, LAPS_LOG_ERR, "d548579da0494cf1ba0c67d55d9e489e",                \
	  "An argument of pam_laps in the PAM service file is unknown or too long; ignored.",      \
	  "Fix the PAM service file (see pam_laps(8)).")                                           \
	/* ---- laps-escrowd ---- */                                                               \
	X(3001, SERVER_STARTED, LAPS_LOG_NOTICE, "bf3e341cd2ff498fb689969c107a5049",               \
	  "laps-escrowd is listening.", "None.")                                                   \
	X(3002, SERVER_STOPPING, LAPS_LOG_NOTICE, "4a7b675a48fc48fc931c876ba93eedb5",              \
	  "laps-escrowd received a signal and is finishing the requests in flight.",               \
	  "None if the stop was intended.")                                                        \
	X(3003, SERVER_START_FAILED, LAPS_LOG_ERR, "5da6057ff07945fea1a16e208ec21902",             \
	  "laps-escrowd could not start (configuration, keys, store or listening socket).",        \
	  "Fix what the message names.")                                                           \
	X(3004, RELOAD_IGNORED, LAPS_LOG_NOTICE, "dab9d3dd01ce45e5bedbb4c935107943",               \
	  "SIGHUP was received; laps-escrowd does not reload its configuration.",                  \
	  "Restart the service to apply a new configuration.")                                     \
	X(3010, SECRET_READ, LAPS_LOG_NOTICE, "80a44da2574b4e7e84fc74336a68ea83",                  \
	  "An audited read of a sealed password or its history was allowed.",                      \
	  "None; review who reads which device's password.")                                       \
	X(3011, ACCESS_DENIED, LAPS_LOG_WARNING, "7ff66f38b6b7477785514a97bed33ddf",               \
	  "A request was refused (no or bad credential, or a missing right) and audited.",         \
	  "Investigate repeated denials for the same actor or peer.")                              \
	X(3012, EXPIRY_SET, LAPS_LOG_NOTICE, "24064557f9c4475a822e8a836bf78250",                   \
	  "An administrator set a record's expiry (forced a rotation); audited.", "None.")         \
	X(3013, RECORD_CHANGED, LAPS_LOG_NOTICE, "9bedc96eccc44b1f8596e2d4ada2a14c",               \
	  "A device wrote or confirmed its record; audited.", "None.")                             \
	X(3014, BREAK_GLASS_READ, LAPS_LOG_WARNING, "99ad5b4004b2467eade5a6b4864d905c",            \
	  "A password was read without the approval [policy] approval requires (break-glass, "     \
	  "with a reason); audited and sent to the webhook.",                                      \
	  "Confirm the emergency with the reader; the reason is in the audit row.")                \
	X(3020, STORE_FAILED, LAPS_LOG_ERR, "23b5573d7bd34bf3995d6905d21c9f00",                    \
	  "The store (SQLite or PostgreSQL) failed; the request was answered 503 and nothing "     \
	  "was changed.",                                                                          \
	  "Check the database (space, connection, permissions).")                                  \
	X(3021, RATE_LIMITED, LAPS_LOG_NOTICE, "635f3844a0354d40bbcc9e4130c4a4a1",                 \
	  "A client exceeded the request rate and was answered 429.",                              \
	  "Investigate if one actor or peer repeats it.")                                          \
	X(3030, EST_ENROLLED, LAPS_LOG_NOTICE, "01e3cb40cd0d4f9d8040d328a0b6c38a",                 \
	  "A device certificate was issued by EST simpleenroll; audited (serial, not_after).",     \
	  "None; review who enrolls which names.")                                                 \
	X(3031, EST_RENEWED, LAPS_LOG_NOTICE, "476fff8f99174e04a54d5e5ffc00a765",                  \
	  "A device renewed its certificate by EST simplereenroll; audited.", "None.")             \
	X(3032, EST_REFUSED, LAPS_LOG_WARNING, "3e2a0f4f57d14e0c84b3d8f596fa482a",                 \
	  "An EST enrollment or renewal was refused (bad request, missing right, name taken); "    \
	  "audited.",                                                                              \
	  "Investigate repeated refusals, above all name_taken (a possible takeover attempt).")    \
	X(3033, EST_BOOTSTRAP_ONLY, LAPS_LOG_WARNING, "251dbafd5a5341468c170766ab58d3f4",          \
	  "A bootstrap certificate ([est] bootstrap_ca) was presented for anything but EST "       \
	  "simpleenroll (a /v1 request, simplereenroll) and refused with 401; audited "            \
	  "(action est_bootstrap).",                                                               \
	  "Its device should use the certificate laps-escrowd issued it; investigate if it "       \
	  "repeats.")                                                                              \
	X(3040, WEBHOOK_DROPPED, LAPS_LOG_WARNING, "81801f838fde4f1481bff15436e0bbfa",             \
	  "A webhook notification was dropped: the queue ([notify] queue) was full.",              \
	  "Check the receiver; raise [notify] queue if bursts are normal.")                        \
	X(3041, WEBHOOK_FAILED, LAPS_LOG_WARNING, "cec97c98750240d3a00abe2fb2e774be",              \
	  "A webhook notification was not delivered after every retry.",                           \
	  "Check the receiver ([notify] webhook); the audit log still has the row.")               \
	X(3042, AUDIT_PRUNED, LAPS_LOG_NOTICE, "276b307ecbe64de59cd2bfde686b0843",                 \
	  "The daily prune deleted audit rows older than [store] audit_retention.", "None.")       \
	X(3043, AUDIT_PRUNE_FAILED, LAPS_LOG_ERR, "c48e5fba9eb84f8e8c3cbd4520982003",              \
	  "The audit prune failed; it is retried in a day and nothing was deleted.",               \
	  "Check the store.")

enum laps_event {
	LAPS_EV_NONE = 0,
#define LAPS_EV_ENUM_(id, name, level, mid, meaning, action) LAPS_EV_##name = id,
	LAPS_EVENTS(LAPS_EV_ENUM_)
#undef LAPS_EV_ENUM_
};

struct laps_event_def {
	unsigned id;		/* 1001 → "LAPS-1001" */
	const char *name;	/* "ROTATED" */
	int level;		/* LAPS_LOG_* */
	const char *message_id; /* journald MESSAGE_ID, 32 hex digits */
	const char *meaning;
	const char *action;
};

/* The row of id, or NULL for LAPS_EV_NONE or an unknown id. */
const struct laps_event_def *laps_event_get(unsigned id);
/* Every row, in table order; *n = their number. */
const struct laps_event_def *laps_event_table(size_t *n);
#endif
