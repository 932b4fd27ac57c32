/*
 * omit.c — the fixed set of recording paths 20053 never lists.
 *
 * Built once before the server starts and only read afterwards (no lock):
 * a sorted array of paths, searched with bsearch. Downloads, deletes and
 * CDRs never ask it: the files stay on disk and their CDRs name them.
 */
#include "omit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static char **omit_v;
static size_t omit_n;

static int omit_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int omit_cmp_oldest(const void *a, const void *b)
{
	const struct store_rec *x = a, *y = b;
	int c = strcmp(x->calldate, y->calldate);
	return c ? c : strcmp(x->path, y->path);
}

static int omit_add(const char *path)
{
	char *p = strdup(path);
	char **v = p ? realloc(omit_v, (omit_n + 1) * sizeof *v) : NULL;
	if (!v) {
		free(p);
		fprintf(stderr, "fakepbx: out of memory\n");
		return -1;
	}
	omit_v = v;
	omit_v[omit_n++] = p;
	return 0;
}

int omit_setup(const char *dir, bool any, long n, const char *const *paths, size_t npaths)
{
	int rc = 0;
	if (n > 0) {
		struct store_list all = { 0 };
		struct store_filter f = { .any = any };
		rc = store_scan(dir, &f, &all);
		if (rc == 0 && all.n > 1)
			qsort(all.recs, all.n, sizeof all.recs[0], omit_cmp_oldest);
		for (size_t i = 0; rc == 0 && i < all.n && i < (size_t)n; i++)
			rc = omit_add(all.recs[i].path);
		store_list_free(&all);
	}
	for (size_t i = 0; rc == 0 && i < npaths; i++)
		rc = omit_add(paths[i]);
	if (omit_n > 1)
		qsort(omit_v, omit_n, sizeof omit_v[0], omit_cmp);
	return rc;
}

bool omit_has(const char *path)
{
	return omit_n && bsearch(&path, omit_v, omit_n, sizeof omit_v[0], omit_cmp) != NULL;
}

void omit_free(void)
{
	for (size_t i = 0; i < omit_n; i++)
		free(omit_v[i]);
	free(omit_v);
	omit_v = NULL;
	omit_n = 0;
}
