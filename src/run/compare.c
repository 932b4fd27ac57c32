/* compare.c — see compare.h. A download here is hashed on the way and never stored: the
 * sink below only hashes each entry and compares it with the digest asked for. */
#include "compare.h"

#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "run.h"
#include "archive/recpath.h"
#include "archive/unpack.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/stop.h"
#include "crypto/hash.h"
#include "pbx/pbx.h"

struct compare {
	struct sha256 *h;
	const char *const *want;   /* hex digests */
	int *same;
};

static int cmp_begin(void *ctx, size_t idx, int64_t size)
{
	struct compare *c = ctx;

	(void)idx;
	(void)size;
	/* As for a fetch: a stop ends the comparison between files; the rest prove nothing. */
	if (stop_requested())
		return -1;
	sha256_start(c->h);
	return 0;
}

static int cmp_data(void *ctx, size_t idx, const void *buf, size_t len)
{
	struct compare *c = ctx;

	(void)idx;
	sha256_update(c->h, buf, len);
	return 0;
}

static int cmp_end(void *ctx, size_t idx, int complete)
{
	struct compare *c = ctx;
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	sha256_finish(c->h, d);
	sha256_to_hex(d, hex);
	if (complete && c->same[idx] == -1)
		c->same[idx] = strcmp(hex, c->want[idx]) == 0;
	return 0;
}

static void cmp_conflict(void *ctx, size_t idx)
{
	struct compare *c = ctx;

	c->same[idx] = -2; /* two entries of one name: neither proves anything */
}

static void cmp_refused(void *ctx, const char *name, const char *why)
{
	char esc[512];

	(void)ctx;
	log_warn("refused a tar entry '%s': %s", log_escape(name, esc, sizeof esc), why);
}

static const struct unpack_sink compare_sink = {
	cmp_begin, cmp_data, cmp_end, cmp_refused, cmp_conflict,
};

/* One round of compare_copies: recordings with pairwise different base names (a PBX may name
 * tar entries by base name alone: two of one name in one answer prove nothing). */
static int compare_round(struct run *r, struct recording *const *recs, const char *const *want,
			 size_t n, int *same)
{
	const char **paths = calloc(n ? n : 1, sizeof *paths);
	struct compare c = { r->hash, NULL, same };
	char err[512];

	if (!paths) {
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		paths[i] = recs[i]->pbx_path;
	size_t cap = n; /* at most this many at once: halved while the PBX answers 414 */
	for (size_t start = 0; start < n && !stop_requested();) {
		size_t len = batch_len(r, batch_recording_path, recs, start, n);
		struct pbx_stream *st = NULL;
		int pr;

		if (len > cap)
			len = cap;
		pr = pbx_download_open(r->pbx, paths + start, len, &st);
		if (pr == PBX_URL_TOO_LONG && len > 1) {
			/* Its request-target cap (fetch.c splits alike): ask for fewer. */
			log_info("the PBX refused a %zu-file request as too long; splitting it", len);
			cap = len / 2;
			continue;
		}
		if (pr == PBX_REFUSED || pr == PBX_UNREACHABLE) {
			r->fatal = pr == PBX_REFUSED ? EXIT_LOGIN : EXIT_UNREACHABLE;
			free(paths);
			return -1;
		}
		if (pr == PBX_OK) {
			c.want = want + start;
			c.same = same + start;
			if (unpack_stream(pbx_stream_read, st, paths + start, len,
					  pbx_stream_compressed(st) ? UNPACK_GZIP : 0, &compare_sink,
					  &c, err, sizeof err) == UNPACK_BROKEN)
				log_warn("comparing %zu recordings with their archived copies: %s", len,
					 err);
			pbx_stream_close(st);
		}
		start += len;
	}
	free(paths);
	return 0;
}

int compare_copies(struct run *r, struct recording *const *recs, const char *const *want,
		   size_t n, int *same)
{
	struct recording **rrecs = calloc(n ? n : 1, sizeof *rrecs);
	const char **rwant = calloc(n ? n : 1, sizeof *rwant);
	int *rsame = calloc(n ? n : 1, sizeof *rsame);
	size_t *at = calloc(n ? n : 1, sizeof *at), left = n;
	char *done = calloc(n ? n : 1, 1);
	int rc = 0;

	if (!rrecs || !rwant || !rsame || !at || !done) {
		free(rrecs), free(rwant), free(rsame), free(at), free(done);
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		same[i] = -1;
	while (rc == 0 && left && !stop_requested()) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const char *base = recpath_basename(recs[i]->pbx_path);
			size_t j = 0;
			if (done[i])
				continue;
			while (j < k && strcmp(recpath_basename(rrecs[j]->pbx_path), base) != 0)
				j++;
			if (j < k)
				continue; /* its name is in this round already: the next one */
			rrecs[k] = recs[i], rwant[k] = want[i], rsame[k] = -1, at[k++] = i;
			done[i] = 1;
		}
		rc = compare_round(r, rrecs, rwant, k, rsame);
		for (size_t j = 0; j < k; j++)
			same[at[j]] = rsame[j] < -1 ? -1 : rsame[j];
		left -= k;
	}
	free(rrecs), free(rwant), free(rsame), free(at), free(done);
	return rc;
}
