/* module_rest.c — the rest backend as a loadable module (backends/module.h). */
#include "config.h"

#include "backends/module.h"
#include "backends/rest_backend.h"

LAPS_BACKEND_MODULE(laps_backend_rest);
