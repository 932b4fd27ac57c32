/*
 * sbuf.h — a growable byte buffer for building HTTP bodies (JSON, HTML).
 *
 * Errors are sticky: after an allocation failure every later call is a
 * no-op and sbuf_failed() says so, so builders check once at the end.
 */
#ifndef FAKEPBX_SBUF_H
#define FAKEPBX_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *buf;   /* always NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
	bool failed;
};

#define SBUF_INIT { NULL, 0, 0, false }

/* Append n bytes. */
void sbuf_add(struct sbuf *sb, const void *data, size_t n);

/* Append a NUL-terminated string. */
void sbuf_adds(struct sbuf *sb, const char *s);

/* Append printf-style output. */
void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append s as a JSON string literal, quotes included, escaping ", \ and
 * control characters. */
void sbuf_json_str(struct sbuf *sb, const char *s);

/* Mark sb failed: an allocation for its contents failed elsewhere. */
void sbuf_fail(struct sbuf *sb);

/* True when an allocation failed since the last sbuf_free(). */
bool sbuf_failed(const struct sbuf *sb);

/* Forget the contents, keep the allocation. */
void sbuf_reset(struct sbuf *sb);

/* Hand the buffer to the caller (free() it); sb is empty afterwards.
 * Returns NULL when an allocation failed (sb is freed then). *len gets
 * the length without the terminating NUL. */
char *sbuf_take(struct sbuf *sb, size_t *len);

/* Release the buffer; sb is empty and usable again. */
void sbuf_free(struct sbuf *sb);

#endif
