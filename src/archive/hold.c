/* hold.c — ARCHIVE/holds.json: reading, matching, adding, removing, writing legal holds.
 * The file is small (a hold is placed by a person), so it is read and rewritten whole. */
#include "hold.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jsonfield.h"
#include "manifest.h"
#include "recpath.h"
#include "store.h"
#include "base/pbxtime.h"

struct holds {
	struct hold *v;
	size_t n, cap;
	unsigned long next_id; /* the N of the next "hN" */
};

static const char *const kind_names[] = { "number", "range", "path" };

const char *hold_kind_name(enum hold_kind kind)
{
	return (unsigned)kind < 3 ? kind_names[kind] : "?";
}

struct holds *holds_new(void)
{
	struct holds *h = calloc(1, sizeof *h);

	if (h)
		h->next_id = 1;
	return h;
}

void holds_free(struct holds *h)
{
	if (!h)
		return;
	free(h->v);
	free(h);
}

size_t holds_count(const struct holds *h)
{
	return h->n;
}

const struct hold *holds_at(const struct holds *h, size_t i)
{
	return i < h->n ? &h->v[i] : NULL;
}

/* A real calendar day written "YYYY-MM-DD". */
static int valid_day(const char *s)
{
	char buf[32];
	pbx_minute m;

	if (!s || strlen(s) != 10)
		return 0;
	snprintf(buf, sizeof buf, "%s 00:00", s);
	return pbxtime_parse(buf, &m) == 0;
}

/* Text we print and match against: non-empty, fits, no control characters. */
static int valid_text(const char *s, size_t max)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0 || len >= max)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static struct hold *grow(struct holds *h)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct hold *p = realloc(h->v, cap * sizeof *p);
		if (!p)
			return NULL;
		h->v = p;
		h->cap = cap;
	}
	memset(&h->v[h->n], 0, sizeof h->v[h->n]);
	return &h->v[h->n];
}

/* Keeps next_id past every "hN" id seen, so removed holds' ids are never reused. */
static void note_id(struct holds *h, const char *id)
{
	char *end;
	unsigned long n;

	if (id[0] != 'h' || id[1] < '0' || id[1] > '9')
		return;
	errno = 0;
	n = strtoul(id + 1, &end, 10);
	if (!*end && !errno && n >= h->next_id && n < 1000000000ul)
		h->next_id = n + 1;
}

static struct hold *find_id(struct holds *h, const char *id)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].id, id) == 0)
			return &h->v[i];
	return NULL;
}

/* ---- matching ---- */

/* `field` ("202", "620(202)") carries `number`: equal, or equal to the part before or inside
 * the parentheses (a call to ring group 620 answered by extension 202 is held by either). */
static int number_in(const char *field, const char *number)
{
	const char *open, *close;
	size_t n = strlen(number);

	if (!*field)
		return 0;
	if (strcmp(field, number) == 0)
		return 1;
	open = strchr(field, '(');
	close = open ? strchr(open, ')') : NULL;
	if (!open || !close)
		return 0;
	if ((size_t)(open - field) == n && strncmp(field, number, n) == 0)
		return 1;
	return (size_t)(close - open - 1) == n && strncmp(open + 1, number, n) == 0;
}

/* The call's day: from its calldate, else from its PBX path, else from its archived file. */
static int entry_day(const struct manifest_entry *e, char day[11])
{
	struct recpath rp;
	char err[128];
	const char *f = e->file;

	if (strlen(e->calldate) >= 10) {
		memcpy(day, e->calldate, 10);
		day[10] = '\0';
		if (valid_day(day))
			return 0;
	}
	if (recpath_parse(e->pbx_path, &rp, err, sizeof err) == 0) {
		memcpy(day, rp.day, 11);
		return 0;
	}
	if (strlen(f) > 11 && f[4] == '/' && f[7] == '/' && f[10] == '/') {
		snprintf(day, 11, "%.4s-%.2s-%.2s", f, f + 5, f + 8);
		if (valid_day(day))
			return 0;
	}
	return -1;
}

int hold_covers(const struct hold *hold, const struct manifest_entry *e)
{
	char day[11];

	switch (hold->kind) {
	case HOLD_NUMBER:
		return number_in(e->src, hold->value) || number_in(e->dst, hold->value);
	case HOLD_RANGE:
		return entry_day(e, day) == 0 && strcmp(day, hold->from) >= 0 &&
		       strcmp(day, hold->to) <= 0;
	case HOLD_PATH:
		return (e->file[0] && fnmatch(hold->value, e->file, 0) == 0) ||
		       (e->pbx_path[0] && fnmatch(hold->value, e->pbx_path, 0) == 0);
	}
	return 0;
}

const struct hold *hold_match(const struct holds *h, const struct manifest_entry *e)
{
	for (size_t i = 0; i < h->n; i++)
		if (!h->v[i].removed && hold_covers(&h->v[i], e))
			return &h->v[i];
	return NULL;
}

/* ---- changes ---- */

const struct hold *holds_add(struct holds *h, enum hold_kind kind, const char *value,
			     const char *from, const char *to, const char *reason,
			     const char *who, char *err, size_t errlen)
{
	struct hold *n;

	if (kind == HOLD_RANGE) {
		if (!valid_day(from) || !valid_day(to)) {
			snprintf(err, errlen, "a range hold needs --from and --to as YYYY-MM-DD");
			return NULL;
		}
		if (strcmp(from, to) > 0) {
			snprintf(err, errlen, "a range hold's --from (%s) is after its --to (%s)",
				 from, to);
			return NULL;
		}
	} else if (kind == HOLD_NUMBER || kind == HOLD_PATH) {
		if (!valid_text(value, HOLD_VALUE_MAX) ||
		    (kind == HOLD_NUMBER && strpbrk(value, " \t()"))) {
			snprintf(err, errlen,
				 "a %s hold needs a %s (printable, at most %d bytes%s)",
				 kind_names[kind], kind == HOLD_NUMBER ? "number" : "glob",
				 HOLD_VALUE_MAX - 1,
				 kind == HOLD_NUMBER ? ", without spaces or parentheses" : "");
			return NULL;
		}
	} else {
		snprintf(err, errlen, "unknown hold kind");
		return NULL;
	}
	if (!valid_text(reason, HOLD_TEXT_MAX)) {
		snprintf(err, errlen, "a hold needs a --reason (one line, at most %d bytes)",
			 HOLD_TEXT_MAX - 1);
		return NULL;
	}
	if (!valid_text(who, HOLD_WHO_MAX) || h->next_id >= 1000000000ul) {
		snprintf(err, errlen, "cannot record who places the hold");
		return NULL;
	}
	n = grow(h);
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(n->id, sizeof n->id, "h%lu", h->next_id++);
	n->kind = kind;
	if (kind == HOLD_RANGE) {
		memcpy(n->from, from, 11);
		memcpy(n->to, to, 11);
	} else {
		snprintf(n->value, sizeof n->value, "%s", value);
	}
	snprintf(n->reason, sizeof n->reason, "%s", reason);
	snprintf(n->who, sizeof n->who, "%s", who);
	pbxtime_utc_stamp(n->created);
	h->n++;
	return n;
}

int holds_remove(struct holds *h, const char *id, const char *who)
{
	struct hold *x = find_id(h, id);

	if (!x)
		return 1;
	if (x->removed)
		return 2;
	x->removed = 1;
	snprintf(x->removed_by, sizeof x->removed_by, "%s", who);
	pbxtime_utc_stamp(x->removed_at);
	return 0;
}

void holds_whoami(char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	const char *sudo = getenv("SUDO_USER");
	uid_t uid = getuid();

	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res && res->pw_name[0])
		snprintf(out, outlen, "%s", res->pw_name);
	else
		snprintf(out, outlen, "uid %lu", (unsigned long)uid);
	if (sudo && *sudo && valid_text(sudo, 128)) {
		size_t len = strlen(out);
		snprintf(out + len, outlen - len, " (sudo by %s)", sudo);
	}
}

/* ---- the file ---- */

static void add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

char *holds_to_json(const struct holds *h)
{
	json_object *arr = json_object_new_array();
	const char *text;
	char *out = NULL;

	if (!arr)
		return NULL;
	for (size_t i = 0; i < h->n; i++) {
		const struct hold *x = &h->v[i];
		json_object *o = json_object_new_object();

		if (!o)
			goto done;
		add_str(o, "id", x->id);
		add_str(o, "kind", kind_names[x->kind]);
		if (x->kind == HOLD_RANGE) {
			add_str(o, "from", x->from);
			add_str(o, "to", x->to);
		} else {
			add_str(o, x->kind == HOLD_NUMBER ? "number" : "glob", x->value);
		}
		add_str(o, "reason", x->reason);
		add_str(o, "who", x->who);
		add_str(o, "created", x->created);
		if (x->removed) {
			json_object_object_add(o, "removed", json_object_new_boolean(1));
			add_str(o, "removed_by", x->removed_by);
			add_str(o, "removed_at", x->removed_at);
		}
		json_object_array_add(arr, o);
	}
	text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
done:
	json_object_put(arr);
	return out;
}

int holds_save(const struct holds *h, struct store *s, char *err, size_t errlen)
{
	char *text = holds_to_json(h);
	int rc;

	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = store_put(s, "", HOLDS_FILE, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

/* String member `key` of `o` into `out`: a required one must be there. Returns 0 or -1. */
static int get_str(json_object *o, const char *key, char *out, size_t outlen, int required)
{
	int rc = jsonfield_copy(o, key, out, outlen);

	return rc == 1 ? (required ? -1 : 0) : rc;
}

/* One element of the array → x. Returns NULL, or which member is wrong. */
static const char *parse_hold(json_object *o, struct hold *x)
{
	char kind[16];
	json_object *v;

	if (!json_object_is_type(o, json_type_object))
		return "not an object";
	if (get_str(o, "id", x->id, sizeof x->id, 1) != 0 || !x->id[0])
		return "id";
	if (get_str(o, "kind", kind, sizeof kind, 1) != 0)
		return "kind";
	if (strcmp(kind, "number") == 0) {
		x->kind = HOLD_NUMBER;
		if (get_str(o, "number", x->value, sizeof x->value, 1) != 0 || !x->value[0])
			return "number";
	} else if (strcmp(kind, "path") == 0) {
		x->kind = HOLD_PATH;
		if (get_str(o, "glob", x->value, sizeof x->value, 1) != 0 || !x->value[0])
			return "glob";
	} else if (strcmp(kind, "range") == 0) {
		x->kind = HOLD_RANGE;
		if (get_str(o, "from", x->from, sizeof x->from, 1) != 0 || !valid_day(x->from))
			return "from";
		if (get_str(o, "to", x->to, sizeof x->to, 1) != 0 || !valid_day(x->to))
			return "to";
	} else {
		return "kind (not number, range or path)";
	}
	if (get_str(o, "reason", x->reason, sizeof x->reason, 0) != 0)
		return "reason";
	if (get_str(o, "who", x->who, sizeof x->who, 0) != 0)
		return "who";
	if (get_str(o, "created", x->created, sizeof x->created, 0) != 0)
		return "created";
	if (json_object_object_get_ex(o, "removed", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return "removed";
		x->removed = json_object_get_boolean(v);
	}
	if (get_str(o, "removed_by", x->removed_by, sizeof x->removed_by, 0) != 0)
		return "removed_by";
	if (get_str(o, "removed_at", x->removed_at, sizeof x->removed_at, 0) != 0)
		return "removed_at";
	return NULL;
}

/* Reads the whole file at `fd`. Returns a malloc'd NUL-terminated text or NULL (err set). */
static char *read_capped(int fd, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > HOLDS_FILE_MAX) {
		snprintf(err, errlen, HOLDS_FILE " is not a regular file of at most %u bytes",
			 HOLDS_FILE_MAX);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory reading " HOLDS_FILE);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "reading " HOLDS_FILE ": %s",
				 r ? strerror(errno) : "file shrank");
			free(buf);
			return NULL;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	if (memchr(buf, '\0', got)) {
		snprintf(err, errlen, HOLDS_FILE " holds a NUL byte");
		free(buf);
		return NULL;
	}
	return buf;
}

struct holds *holds_load(struct store *s, char *err, size_t errlen)
{
	struct holds *h = holds_new();
	json_tokener *tok = NULL;
	json_object *arr = NULL;
	char *text = NULL;
	size_t len, end;
	int fd;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fd = store_open_regular(store_root_fd(s), HOLDS_FILE);
	if (fd < 0) {
		if (errno == ENOENT)
			return h;
		snprintf(err, errlen, "cannot read %s/" HOLDS_FILE ": %s", store_root_path(s),
			 strerror(errno));
		goto fail;
	}
	text = read_capped(fd, err, errlen);
	close(fd);
	if (!text)
		goto fail;
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	len = strlen(text);
	if (len < INT32_MAX)
		arr = json_tokener_parse_ex(tok, text, (int)len);
	end = arr ? json_tokener_get_parse_end(tok) : 0;
	if (!arr || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(arr, json_type_array) ||
	    end + strspn(text + end, " \t\r\n") != len) {
		snprintf(err, errlen, "%s/" HOLDS_FILE " is not a JSON array", store_root_path(s));
		goto fail;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct hold *x = grow(h);
		const char *bad;

		if (!x) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		bad = parse_hold(json_object_array_get_idx(arr, i), x);
		if (!bad && find_id(h, x->id))
			bad = "id (used twice)";
		if (bad) {
			snprintf(err, errlen,
				 "%s/" HOLDS_FILE ": hold %zu: missing or malformed %s",
				 store_root_path(s), i + 1, bad);
			goto fail;
		}
		note_id(h, x->id);
		h->n++;
	}
	json_object_put(arr);
	json_tokener_free(tok);
	free(text);
	return h;
fail:
	json_object_put(arr);
	if (tok)
		json_tokener_free(tok);
	free(text);
	holds_free(h);
	return NULL;
}
