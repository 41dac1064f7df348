/* module_graph.c — the graph backend as a loadable module (backends/module.h). */
#include "config.h"

#include "backends/graph_backend.h"
#include "backends/module.h"

LAPS_BACKEND_MODULE(laps_backend_graph);
