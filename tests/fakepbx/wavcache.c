/*
 * wavcache.c — an open-addressing hash table from recording path to
 * (file identity, duration), guarded by one mutex.
 *
 * It owns copies of the paths and nothing else; it never touches the disk.
 * Entries of deleted files are not hunted down: the table is simply
 * emptied when it grows past WCACHE_MAX, which a test never reaches.
 */
#include "wavcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WCACHE_MAX (2u * 1024 * 1024)

struct wcache_ent {
	char *path; /* NULL: empty slot */
	uint64_t hash;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	uint32_t secs;
};

static struct wcache_ent *wcache_tab;
static size_t wcache_cap, wcache_n; /* cap is 0 or a power of two */
static pthread_mutex_t wcache_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t wcache_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static bool wcache_same(const struct wcache_ent *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtim.tv_sec == st->st_mtim.tv_sec && e->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       e->ctim.tv_sec == st->st_ctim.tv_sec && e->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* Slot holding path, or the empty slot where it would go. */
static struct wcache_ent *wcache_slot(struct wcache_ent *tab, size_t cap, const char *path,
				      uint64_t h)
{
	for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!tab[i].path || (tab[i].hash == h && strcmp(tab[i].path, path) == 0))
			return &tab[i];
}

static void wcache_free_all(void)
{
	for (size_t i = 0; i < wcache_cap; i++)
		free(wcache_tab[i].path);
	free(wcache_tab);
	wcache_tab = NULL;
	wcache_cap = wcache_n = 0;
}

static bool wcache_grow(void)
{
	size_t cap = wcache_cap ? wcache_cap * 2 : 1024;
	struct wcache_ent *tab = calloc(cap, sizeof *tab);
	if (!tab)
		return false;
	for (size_t i = 0; i < wcache_cap; i++)
		if (wcache_tab[i].path)
			*wcache_slot(tab, cap, wcache_tab[i].path, wcache_tab[i].hash) = wcache_tab[i];
	free(wcache_tab);
	wcache_tab = tab;
	wcache_cap = cap;
	return true;
}

bool wcache_get(const char *path, const struct stat *st, uint32_t *secs)
{
	bool hit = false;
	pthread_mutex_lock(&wcache_lock);
	if (wcache_cap) {
		struct wcache_ent *e = wcache_slot(wcache_tab, wcache_cap, path, wcache_hash(path));
		if (e->path && wcache_same(e, st)) {
			*secs = e->secs;
			hit = true;
		}
	}
	pthread_mutex_unlock(&wcache_lock);
	return hit;
}

void wcache_put(const char *path, const struct stat *st, uint32_t secs)
{
	uint64_t h = wcache_hash(path);
	pthread_mutex_lock(&wcache_lock);
	if (wcache_n >= WCACHE_MAX)
		wcache_free_all();
	if ((wcache_n + 1) * 2 > wcache_cap && !wcache_grow())
		goto out;
	struct wcache_ent *e = wcache_slot(wcache_tab, wcache_cap, path, h);
	if (!e->path) {
		if (!(e->path = strdup(path)))
			goto out;
		e->hash = h;
		wcache_n++;
	}
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtim = st->st_mtim;
	e->ctim = st->st_ctim;
	e->secs = secs;
out:
	pthread_mutex_unlock(&wcache_lock);
}

void wcache_clear(void)
{
	pthread_mutex_lock(&wcache_lock);
	wcache_free_all();
	pthread_mutex_unlock(&wcache_lock);
}
