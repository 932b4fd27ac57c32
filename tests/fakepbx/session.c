/*
 * session.c — the session table.
 *
 * Owns the ids and use counters of logged-in clients and the lock that
 * guards them; it never sees passwords (the login CGI checks those).
 */
#include "session.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#define SESS_MAX 256

struct sess {
	char id[SESS_ID_LEN + 1]; /* "" marks a free slot */
	long uses;
	uint64_t born;            /* creation order, to evict the oldest */
};

static struct sess sess_table[SESS_MAX];
static uint64_t sess_clock;
static pthread_mutex_t sess_lock = PTHREAD_MUTEX_INITIALIZER;

int sess_create(char id[SESS_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[SESS_ID_LEN / 2];
	if (RAND_bytes(raw, sizeof raw) != 1) {
		fprintf(stderr, "fakepbx: RAND_bytes failed\n");
		return -1;
	}
	for (size_t i = 0; i < sizeof raw; i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 15];
	}
	id[SESS_ID_LEN] = '\0';

	pthread_mutex_lock(&sess_lock);
	struct sess *slot = &sess_table[0];
	for (size_t i = 0; i < SESS_MAX; i++) {
		if (sess_table[i].id[0] == '\0') {
			slot = &sess_table[i];
			break;
		}
		if (sess_table[i].born < slot->born)
			slot = &sess_table[i];
	}
	memcpy(slot->id, id, SESS_ID_LEN + 1);
	slot->uses = 0;
	slot->born = ++sess_clock;
	pthread_mutex_unlock(&sess_lock);
	return 0;
}

bool sess_use(const char *id, long expire_after)
{
	if (!id || strlen(id) != SESS_ID_LEN)
		return false;
	bool ok = false;
	pthread_mutex_lock(&sess_lock);
	for (size_t i = 0; i < SESS_MAX; i++) {
		struct sess *s = &sess_table[i];
		if (s->id[0] == '\0' || strcmp(s->id, id) != 0)
			continue;
		s->uses++;
		if (expire_after >= 0 && s->uses > expire_after)
			memset(s, 0, sizeof *s); /* died: later requests fail too */
		else
			ok = true;
		break;
	}
	pthread_mutex_unlock(&sess_lock);
	return ok;
}

void sess_kill(const char *id)
{
	if (!id)
		return;
	pthread_mutex_lock(&sess_lock);
	for (size_t i = 0; i < SESS_MAX; i++)
		if (sess_table[i].id[0] && strcmp(sess_table[i].id, id) == 0)
			memset(&sess_table[i], 0, sizeof sess_table[i]);
	pthread_mutex_unlock(&sess_lock);
}

void sess_clear(void)
{
	pthread_mutex_lock(&sess_lock);
	memset(sess_table, 0, sizeof sess_table);
	pthread_mutex_unlock(&sess_lock);
}
