/* calendar.h — the coverage report (cmd_report.h's JSON object) as one self-contained HTML
 * page: inline CSS only (no script, font, image or link to fetch), readable in print. Every
 * string is HTML-escaped (the PBX's name, the head's findings, what the run report says);
 * every day cell carries its numbers as data-* attributes, for tools and tests. Formats only. */
#ifndef NEXO_CALENDAR_H
#define NEXO_CALENDAR_H

#include <stddef.h>

struct json_object;

/* The page of `report`, malloc'd and NUL-terminated, its length in *len; NULL out of memory. */
char *calendar_html(struct json_object *report, size_t *len);

/* Appends `s` to `out` (capacity `cap`, NUL-terminated) with &, <, >, " and ' escaped;
 * returns the length it needed (as snprintf: >= cap means it was cut). For tests. */
size_t calendar_escape(const char *s, char *out, size_t cap);

#endif
