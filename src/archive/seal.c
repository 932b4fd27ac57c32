/* seal.c — the per-entry pipeline: temp file, SHA-256, WAV check, optional age encryption,
 * commit, read-back. See seal.h. */
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "naming.h"
#include "readback.h"
#include "store.h"
#include "wav.h"
#include "crypto/age.h"

struct sealer {
	struct store *store;
	const struct age_recipients *recipients; /* NULL: plain */
	struct store_file *file;       /* the entry in progress, or NULL */
	struct age_writer *age;        /* its encryption, or NULL */
	struct readback *readback;     /* checks encrypted files in the background */
	struct file_naming naming;     /* what the entry's file is called */
	struct wav_check wav;
	uint64_t audio_bytes;
	unsigned char wire[SHA256_LEN]; /* the audio's hash, once the entry ended */
	struct sha256 *stored;         /* hashes the encrypted file as it is written */
	char write_err[256];           /* what an age output callback could not write */
};

struct sealer *sealer_new(struct store *s, const struct age_recipients *recipients, char *err,
			  size_t errlen)
{
	struct sealer *z = calloc(1, sizeof *z);

	if (!z || !(z->stored = sha256_new())) {
		free(z);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	z->store = s;
	z->recipients = recipients && age_recipients_count(recipients) ? recipients : NULL;
	if (z->recipients && !(z->readback = readback_new(err, errlen))) {
		sha256_free(z->stored);
		free(z);
		return NULL;
	}
	return z;
}

void sealer_free(struct sealer *z)
{
	if (!z)
		return;
	sealer_abandon(z);
	readback_free(z->readback);
	sha256_free(z->stored);
	free(z);
}

void sealer_abandon(struct sealer *z)
{
	age_writer_free(z->age);
	z->age = NULL;
	store_abandon(z->file);
	z->file = NULL;
}

/* age's output: ciphertext to the temp file. */
static int write_out(void *ctx, const void *buf, size_t len)
{
	struct sealer *z = ctx;

	sha256_update(z->stored, buf, len);
	return store_write(z->file, buf, len, z->write_err, sizeof z->write_err);
}

int sealer_begin(struct sealer *z, const struct recpath *where, const char *pbx_path,
		 unsigned version, char *why, size_t whylen)
{
	char name[RECPATH_FILE_MAX];

	sealer_abandon(z);
	z->naming.where = *where;
	snprintf(z->naming.pbx_path, sizeof z->naming.pbx_path, "%s", pbx_path);
	z->naming.version = version ? version : 1;
	z->naming.suffix = z->recipients ? ".age" : "";
	if (naming_first(&z->naming, name, sizeof name) != 0) {
		snprintf(why, whylen, "no archive file name fits %s", where->name);
		return SEAL_STORAGE;
	}
	z->file = store_begin(z->store, where->dir, name, why, whylen);
	if (!z->file)
		return SEAL_STORAGE;
	if (z->recipients) {
		z->write_err[0] = '\0';
		sha256_start(z->stored);
		z->age = age_writer_new(z->recipients, write_out, z, why, whylen);
		if (!z->age) {
			if (z->write_err[0])
				snprintf(why, whylen, "%s", z->write_err);
			sealer_abandon(z);
			return SEAL_STORAGE;
		}
	}
	wav_check_init(&z->wav);
	z->audio_bytes = 0;
	return SEAL_OK;
}

int sealer_write(struct sealer *z, const void *buf, size_t len, char *why, size_t whylen)
{
	int rc;

	if (z->age) {
		z->write_err[0] = '\0';
		rc = age_writer_write(z->age, buf, len);
		if (rc != 0)
			snprintf(why, whylen, "%s", z->write_err[0] ? z->write_err : "encryption failed");
	} else {
		rc = store_write(z->file, buf, len, why, whylen);
	}
	if (rc != 0) {
		sealer_abandon(z);
		return SEAL_STORAGE;
	}
	wav_check_feed(&z->wav, buf, len);
	z->audio_bytes += len;
	return SEAL_OK;
}

/* The content checks. Returns 0, or -1 with `why` set. */
static int judge(struct sealer *z, int64_t expected_size, struct sealed *out, char *why,
		 size_t whylen)
{
	struct wav_info info;
	char werr[160];

	if (z->audio_bytes == 0) {
		snprintf(why, whylen, "empty file");
		return -1;
	}
	if (expected_size >= 0 && (uint64_t)expected_size != z->audio_bytes) {
		snprintf(why, whylen, "%llu bytes arrived, the listing says %lld",
			 (unsigned long long)z->audio_bytes, (long long)expected_size);
		return -1;
	}
	if (wav_check_finish(&z->wav, &info, werr, sizeof werr) != 0) {
		out->unfinished = wav_check_unfinished(&z->wav);
		snprintf(why, whylen, "%s: %s",
			 out->unfinished ? "still being recorded (its WAV header's sizes are 0)"
					 : "not a valid WAV", werr);
		return -1;
	}
	out->seconds = info.seconds;
	return 0;
}

/* Commits the judged entry and, when encrypted, reads it back. */
static int commit(struct sealer *z, struct sealed *out, char *why, size_t whylen)
{
	char name[RECPATH_FILE_MAX];

	if (z->age) {
		z->write_err[0] = '\0';
		if (age_writer_finish(z->age) != 0) {
			snprintf(why, whylen, "%s", z->write_err[0] ? z->write_err
								     : "encryption failed");
			sealer_abandon(z);
			return SEAL_STORAGE;
		}
		out->size = age_writer_bytes_out(z->age);
	} else {
		out->size = z->audio_bytes;
	}
	out->encrypted = z->age != NULL;
	sha256_to_hex(z->wire, out->sha256);
	out->audio_bytes = z->audio_bytes;
	naming_first(&z->naming, name, sizeof name); /* fits: sealer_begin checked */
	snprintf(out->file, sizeof out->file, "%s/%s", z->naming.where.dir, name);
	if (z->age) {
		/* The writer (with its file key) and the file go to the read-back, which commits
		 * the file only if it passes (setting out->file to the name it got), and wipes the
		 * key. */
		unsigned char stored[SHA256_LEN];
		int rc = store_finish_writing(z->file, why, whylen);

		sha256_finish(z->stored, stored);
		if (rc == 0) {
			rc = readback_submit(z->readback, z->age, z->file, &z->naming, z->wire,
					     stored, out);
			if (rc != 0)
				snprintf(why, whylen, "out of memory");
			z->age = NULL;
			z->file = NULL;
		}
		if (rc != 0) {
			sealer_abandon(z);
			return SEAL_STORAGE;
		}
	} else {
		struct store_naming sn = naming_for_store(&z->naming);
		int rc = store_commit_new(z->file, &sn, name, sizeof name, why, whylen);

		z->file = NULL;
		if (rc != 0) {
			sealer_abandon(z);
			return SEAL_STORAGE;
		}
		snprintf(out->file, sizeof out->file, "%s/%s", z->naming.where.dir, name);
	}
	sealer_abandon(z);
	return SEAL_OK;
}

int sealer_finish(struct sealer *z, int64_t expected_size, const unsigned char wire[SHA256_LEN],
		  struct sealed *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	out->seconds = -1;
	out->audio_bytes = z->audio_bytes;
	memcpy(z->wire, wire, SHA256_LEN);
	if (judge(z, expected_size, out, why, whylen) != 0)
		return SEAL_REJECTED; /* still open: sealer_keep() or sealer_abandon() */
	return commit(z, out, why, whylen);
}

int sealer_drain(struct sealer *z)
{
	return z->readback ? readback_drain(z->readback) : 0;
}

int sealer_keep(struct sealer *z, struct sealed *out, char *why, size_t whylen)
{
	out->invalid = 1;
	return commit(z, out, why, whylen);
}
