/* batch.c — batch sizing (batch.h). */
#include "batch.h"

#include "run.h"
#include "pbx/recording.h"
#include "pbx/pbx.h"

size_t batch_len(struct run *r, const char *(*path_at)(const void *items, size_t i),
		 const void *items, size_t start, size_t n)
{
	size_t prefix = pbx_download_url_len(r->pbx, NULL, 0), len = prefix, end = start;

	while (end < n && end - start < (size_t)r->cfg->sync.batch_files) {
		const char *one = path_at(items, end);
		size_t add = pbx_download_url_len(r->pbx, &one, 1) - prefix + (end > start);
		if (end > start && len + add > r->cfg->sync.batch_url_bytes)
			break;
		len += add;
		end++;
	}
	return end - start;
}

const char *batch_recording_path(const void *recs, size_t i)
{
	return ((struct recording *const *)recs)[i]->pbx_path;
}
