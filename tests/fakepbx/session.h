/*
 * session.h — login sessions of the fake PBX (cookie "session").
 *
 * A fixed-size table guarded by a mutex: when it is full the oldest session
 * is dropped, like an embedded web server would. Ids are 128 random bits
 * from libcrypto, written as 32 lowercase hex digits.
 */
#ifndef FAKEPBX_SESSION_H
#define FAKEPBX_SESSION_H

#include <stdbool.h>

#define SESS_ID_LEN 32

/*
 * Create a session and write its id (SESS_ID_LEN hex digits + NUL) to id.
 * Returns 0 ok, -1 when no random bytes could be had (message printed).
 */
int sess_create(char id[SESS_ID_LEN + 1]);

/*
 * Count one authenticated request against session id (may be NULL).
 * expire_after >= 0 makes a session die after that many requests (-1: never).
 * Returns true when the session is valid for this request.
 */
bool sess_use(const char *id, long expire_after);

/* Drop session id (a session that died): later requests with it fail. */
void sess_kill(const char *id);

/* Forget every session (at shutdown). */
void sess_clear(void);

#endif
