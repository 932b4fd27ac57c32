/* s3xml.h — the few values an S3 server's XML answers carry that we read: an error's <Code>,
 * ListObjectsV2's <Contents> (Key, Size, ETag) and paging, ObjectLockEnabled. Not an XML
 * parser: it finds elements by name in a capped answer and decodes the five entities and
 * numeric references, nothing else (S3 answers use no CDATA, comments or attributes there). */
#ifndef NEXO_S3XML_H
#define NEXO_S3XML_H

#include <stddef.h>

/* The text of the first element <tag> in [p, end), decoded into `out` (cut to fit). Returns a
 * pointer just past its closing tag, or NULL when absent or malformed. */
const char *s3xml_value(const char *p, const char *end, const char *tag, char *out, size_t len);

/* The next element <tag>…</tag> from `p`: *inner and *inner_end bound its content. Returns a
 * pointer past it, or NULL when there is none. */
const char *s3xml_next(const char *p, const char *end, const char *tag, const char **inner,
		       const char **inner_end);

#endif
