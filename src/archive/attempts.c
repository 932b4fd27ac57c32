/* attempts.c — the failure counts of attempts.h, as one JSON object kept in memory. */
#include "attempts.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "base/log.h"

#define FILE_NAME "attempts.json"
#define MAX_BYTES (16u << 20)

struct attempts {
	json_object *all;  /* pbx_path → {"kind", "way", "count"} */
	json_object *noted;   /* paths counted by this run, and what they got */
	json_object *tried;   /* paths this run asked the PBX for (null), or found growing
			       * (true) */
	int changed;
};

/* The reason with every run of digits replaced by '#': "the same way" across a growing file. */
static void way_of(const char *why, char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *p = why; *p && o + 1 < outlen; p++) {
		if (*p >= '0' && *p <= '9') {
			if (o == 0 || out[o - 1] != '#')
				out[o++] = '#';
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

struct attempts *attempts_load(struct store *s)
{
	struct attempts *a = calloc(1, sizeof *a);
	char err[512];
	int dfd, fd;

	if (!a) {
		log_error("out of memory");
		return NULL;
	}
	dfd = store_open_dir(s, ".state", 1, err, sizeof err);
	fd = dfd >= 0 ? store_open_regular(dfd, FILE_NAME) : -1;
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0) {
		char *buf = malloc(MAX_BYTES + 1);
		ssize_t n = buf ? read(fd, buf, MAX_BYTES) : -1;
		if (n >= 0) {
			buf[n] = '\0';
			a->all = json_tokener_parse(buf);
		}
		free(buf);
		close(fd);
		if (!a->all || !json_object_is_type(a->all, json_type_object)) {
			log_warn("%s/.state/" FILE_NAME " is unreadable; failure counts start again",
				 store_root_path(s));
			json_object_put(a->all);
			a->all = NULL;
		}
	} else if (errno != ENOENT) {
		log_warn("cannot read %s/.state/" FILE_NAME ": %s", store_root_path(s),
			 strerror(errno));
	}
	if (!a->all)
		a->all = json_object_new_object();
	a->noted = json_object_new_object();
	a->tried = json_object_new_object();
	return a;
}

void attempts_free(struct attempts *a)
{
	if (!a)
		return;
	json_object_put(a->all);
	json_object_put(a->noted);
	json_object_put(a->tried);
	free(a);
}

int attempts_note(struct attempts *a, const char *pbx_path, const char *kind, const char *why,
		  const char *seen)
{
	json_object *e, *v;
	char way[256];
	int count = 1, same_way = 0;

	if (json_object_object_get_ex(a->noted, pbx_path, &v))
		return json_object_get_int(v); /* this run counted it already */
	way_of(why, way, sizeof way);
	if (json_object_object_get_ex(a->all, pbx_path, &e) &&
	    json_object_object_get_ex(e, "kind", &v) && !strcmp(json_object_get_string(v), kind) &&
	    json_object_object_get_ex(e, "way", &v) && !strcmp(json_object_get_string(v), way) &&
	    json_object_object_get_ex(e, "count", &v)) {
		same_way = 1;
		count = json_object_get_int(v) + 1;
	}
	if (same_way && !(json_object_object_get_ex(e, "seen", &v) &&
			  !strcmp(json_object_get_string(v), seen)))
		count = 0; /* still changing: not a failure, and counting starts again */
	e = json_object_new_object();
	json_object_object_add(e, "kind", json_object_new_string(kind));
	json_object_object_add(e, "way", json_object_new_string(way));
	json_object_object_add(e, "seen", json_object_new_string(seen));
	json_object_object_add(e, "count", json_object_new_int(count));
	json_object_object_add(a->all, pbx_path, e);
	json_object_object_add(a->noted, pbx_path, json_object_new_int(count));
	a->changed = 1;
	return count;
}

void attempts_mark_tried(struct attempts *a, const char *pbx_path)
{
	json_object_object_add(a->tried, pbx_path, NULL);
}

void attempts_mark_growing(struct attempts *a, const char *pbx_path)
{
	json_object_object_add(a->tried, pbx_path, json_object_new_boolean(1));
}

int attempts_growing(const struct attempts *a, const char *pbx_path)
{
	json_object *v;

	return json_object_object_get_ex(a->tried, pbx_path, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

int attempts_tried(const struct attempts *a, const char *pbx_path)
{
	return json_object_object_get_ex(a->tried, pbx_path, NULL);
}

int attempts_this_run(const struct attempts *a, const char *pbx_path, const char **kind)
{
	json_object *n, *e, *k;

	*kind = "";
	if (!json_object_object_get_ex(a->noted, pbx_path, &n))
		return -1;
	if (json_object_object_get_ex(a->all, pbx_path, &e) &&
	    json_object_object_get_ex(e, "kind", &k))
		*kind = json_object_get_string(k);
	return json_object_get_int(n);
}

void attempts_clear(struct attempts *a, const char *pbx_path)
{
	if (json_object_object_get_ex(a->all, pbx_path, NULL)) {
		json_object_object_del(a->all, pbx_path);
		a->changed = 1;
	}
}

int attempts_save(struct attempts *a, struct store *s)
{
	const char *text;
	char err[512];

	if (!a->changed)
		return 0;
	text = json_object_to_json_string_ext(a->all, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	if (store_put(s, ".state", FILE_NAME, text, strlen(text), err, sizeof err) != 0) {
		log_error("cannot save failure counts: %s", err);
		return -1;
	}
	a->changed = 0;
	return 0;
}
