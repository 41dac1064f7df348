/*
 * events.c — the event table of escrow/events.h as data.
 */
#include "config.h"

#include <stddef.h>

#include "escrow/events.h"
#include "escrow/log.h"

static const struct laps_event_def events[] = {
#define LAPS_EV_ROW_(id, name, level, mid, meaning, action)                                        \
	{id, #name, level, mid, meaning, action},
    LAPS_EVENTS(LAPS_EV_ROW_)
#undef LAPS_EV_ROW_
};

/* Every message_id is 32 characters (the hex digits are checked by the test). */
#define LAPS_EV_LEN_(id, name, level, mid, meaning, action)                                        \
	_Static_assert(sizeof(mid) == 33, "message_id of " #name " is not 32 hex digits");
LAPS_EVENTS(LAPS_EV_LEN_)
#undef LAPS_EV_LEN_

const struct laps_event_def *
laps_event_get(unsigned id)
{
	size_t i;

	for (i = 0; i < sizeof events / sizeof events[0]; i++)
		if (events[i].id == id)
			return &events[i];
	return NULL;
}

const struct laps_event_def *
laps_event_table(size_t *n)
{
	*n = sizeof events / sizeof events[0];
	return events;
}
