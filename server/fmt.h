/*
 * fmt.h — formatting into fixed buffers where truncation is acceptable
 * (messages, audit details): laps_snprintf's result is deliberately unused.
 */
#ifndef LAPS_SERVER_FMT_H
#define LAPS_SERVER_FMT_H

#include "escrow/fileio.h"

#define fmt_trunc(...)                                                                             \
	do {                                                                                       \
		if (laps_snprintf(__VA_ARGS__) != 0) {                                             \
		}                                                                                  \
	} while (0)

#endif
