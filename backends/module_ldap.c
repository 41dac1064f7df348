/* module_ldap.c — the ldap backend as a loadable module (backends/module.h). */
#include "config.h"

#include "backends/ldap_backend.h"
#include "backends/module.h"

LAPS_BACKEND_MODULE(laps_backend_ldap);
