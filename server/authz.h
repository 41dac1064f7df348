/*
 * authz.h — who is calling (identity) and what may they do (rights).
 *
 * docs/REST-API.md §3.  An identity is a device (its own device only:
 * metadata, write, confirm) or an admin whose rights come from values of a
 * claim (tokens) or from [authz] cert_admins (certificates).  A value
 * "laps.secret" grants the right on every device; "laps.secret@UNIT" only on
 * the devices matching one of the unit's patterns ([authz] units).
 */
#ifndef LAPS_SERVER_AUTHZ_H
#define LAPS_SERVER_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "escrow/conf.h"

#define AUTHZ_READ 0x1
#define AUTHZ_SECRET 0x2
#define AUTHZ_EXPIRE 0x4
#define AUTHZ_AUDIT 0x8
#define AUTHZ_ENROLL 0x10 /* EST simpleenroll for another device (server/est_api.c) */
#define AUTHZ_APPROVE 0x20 /* decide approval requests (server/policy.h) */
#define AUTHZ_MAX_GRANTS LAPS_CONFIG_MAX_LIST
#define AUTHZ_NAME_MAX 256

enum identity_kind { ID_ANONYMOUS = 0, ID_DEVICE, ID_ADMIN };

struct identity {
	enum identity_kind kind;
	char actor[AUTHZ_NAME_MAX];         /* for the audit log */
	char device[LAPS_DEVICE_MAX + 1];   /* ID_DEVICE */
	char jti[AUTHZ_NAME_MAX];           /* token id, "" for certificates */
	unsigned global;                    /* rights on every device */
	unsigned unit_rights[AUTHZ_MAX_GRANTS]; /* rights per configured unit (index) */
};

/* The configured units and values (borrowed from the config). */
struct authz {
	const struct laps_conf *cfg;
	char unit_names[AUTHZ_MAX_GRANTS][64]; /* distinct unit names */
	size_t n_units;
};

/* Prepare from cfg ([authz]); cfg must outlive a.  0 or LAPS_ERR_CONFIG. */
int authz_init(struct authz *a, const struct laps_conf *cfg) __attribute__((warn_unused_result));

/* "Does the rights claim hold this value?" */
typedef bool (*authz_has_fn)(void *ctx, const char *value);

/*
 * Fill id's rights (global and per unit) from the values has() answers yes
 * to.  Returns true when the values make it a device (device_value present).
 */
bool authz_rights_from(const struct authz *a, authz_has_fn has, void *ctx, struct identity *id);

/* Map a claim or certificate name to a device name: strip prefix (when
 * given; a name without it is refused), lower-case, check.  0 or
 * LAPS_ERR_AUTH. */
int authz_device_name(const char *value, const char *prefix, char out[LAPS_DEVICE_MAX + 1])
    __attribute__((warn_unused_result));

/* Identity of a verified certificate whose mapped name is name. */
int authz_from_cert(const struct authz *a, const char *name, const char *subject,
		    struct identity *id) __attribute__((warn_unused_result));

/* Rights of an admin on device (secret and expire imply read). */
unsigned authz_rights_on(const struct authz *a, const struct identity *id, const char *device);
/* Is device in the unit named unit (one of its [authz] units patterns)? */
bool authz_device_in_unit(const struct authz *a, const char *unit, const char *device);
/* Rights an admin holds anywhere (global or in some unit). */
unsigned authz_rights_any(const struct identity *id, size_t n_units);

#endif
