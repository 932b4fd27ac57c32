/* config.h — the INI file (read with inih) → a typed, validated struct.
 *
 * Unknown sections or keys and bad values are errors naming file:line. Relative paths in the
 * file are taken relative to the file's own folder, so a config works from any cwd. `-o
 * section.key=value` overrides from the command line are applied after the file, with the same
 * checks; password keys cannot be set that way (argv is visible to every user). The password
 * lives only as its MD5 hex (what the PBX wants), in sodium_malloc'd memory wiped on free. */
#ifndef NEXO_CONFIG_H
#define NEXO_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "pbxtime.h"

#define CONFIG_MAX_PREVIOUS_KEYS 8

/* [retention] verify_pbx_copy (docs/reliability.md, the deletion protocol). */
enum verify_pbx_copy {
	VERIFY_AUTO,     /* downloaded again and compared unless its listed size vouches */
	VERIFY_DOWNLOAD, /* always downloaded again and compared */
	VERIFY_LISTING,  /* an unchanged duration vouches too (cheaper; a recording that grew
			  * by less than the listing's rounding can go unnoticed) */
};

/* [offsite] lock: how uploads are locked (docs/offsite.md). */
enum offsite_lock {
	OFFSITE_LOCK_AUTO,       /* COMPLIANCE when the bucket has Object Lock, else none */
	OFFSITE_LOCK_COMPLIANCE, /* nobody, not even the bucket's owner, may shorten it */
	OFFSITE_LOCK_GOVERNANCE, /* users with s3:BypassGovernanceRetention may */
	OFFSITE_LOCK_OFF,        /* no lock headers */
};

struct config {
	char *path;
	struct {
		char *url;             /* "http(s)://host[:port]", no trailing slash */
		char *username;
		char *password_md5;    /* 32 lowercase hex + NUL, sodium_malloc'd */
		char *ca_file;
		int insecure;
		long timeout;          /* seconds for a whole request without progress */
		long connect_timeout;  /* seconds */
		int retries;           /* extra attempts for transient failures */
		char *timezone;        /* PBX zone for "now" (NULL: host's) */
		char *pinned_pubkey;   /* "sha256//base64..." (libcurl's form), or NULL */
		int require_https;
		long max_clock_skew;   /* seconds the PBX's Date may be off before deletes stop */
		int64_t max_rate;      /* bytes per second over all 20036 downloads at once
					* (units.h); 0 = no cap */
	} pbx;
	struct {
		char *dir;
	} archive;
	struct {
		pbx_minute since;      /* first run's start; -1 unset (then: lookback before now) */
		pbx_minute lookback;
		pbx_minute window;
		int batch_files;
		size_t batch_url_bytes;
		int invalid_retries;   /* runs a recording may fail the same way before it is
					* archived as it is (flagged) or recorded unavailable */
		int parallel;          /* batch downloads at once (backfills of big PBXs) */
		long reconcile_days;   /* a run lists the whole history every N days; 0 = never */
		unsigned long long max_recording_bytes; /* one recording's cap when its listing
					* states no size (default 2 GiB) */
		int64_t max_duration;  /* seconds a run, backfill or reconcile may take before it
					* stops at a file boundary (stop.h); 0 = no budget */
		int partial_alarm;     /* this many partial runs in a row exit EXIT_PARTIAL_ALARM;
					* 0 = never */
	} sync;
	struct {
		int delete_from_pbx;
		long pbx_keep_days;
		long max_delete;
		int verify_pbx_copy;    /* enum verify_pbx_copy: how a deletion makes sure the
					 * PBX holds the archived bytes */
		long archive_keep_days; /* local pruning; -1 = off */
		long archive_min_days;  /* floor: prune refuses when keep < min */
		long local_keep_days;   /* prune removes local copies confirmed offsite after
					 * this many days ("offloaded"); -1 = off */
	} retention;
	struct {
		char *recipients;       /* "age1... age1..." as written; NULL = no encryption */
		char *recipients_file;
	} encryption;
	struct {
		char *secret_key_file;  /* minisign secret key: sign manifests after each run */
		char *public_key_file;  /* for verify */
		char *previous_public_key_files[CONFIG_MAX_PREVIOUS_KEYS]; /* keys rotated out: a
					 * day they signed is checked with them before a run adds
					 * to it and signs it with the new key (repeatable key) */
		int nprevious;
	} signing;
	struct {
		int join;               /* list 9006 with each window, join CDRs to recordings */
		int archive;            /* keep ARCHIVE/cdr/DAY.jsonl and .csv (needs join) */
		int delete_from_pbx;    /* 9004 a day's CDRs once its archive is sealed */
	} cdr;
	struct {
		char *host;             /* NULL: the host of [pbx] url */
		int port;
		char *username;
		char *secret;           /* sodium_malloc'd; NULL: `watch` cannot run */
		long reconnect_max;     /* seconds: cap of the doubling reconnect delay */
		long coalesce_ms;       /* wait this long after an event for more of a burst */
	} ami;
	struct {
		char *prometheus_file;  /* node-exporter textfile metrics, written after each run;
					 * NULL none (run/metrics.h) */
		char *ping_url;         /* a Healthchecks-style URL: /start, success, /fail */
		long ping_timeout;      /* seconds one ping may take */
		char *on_failure;       /* a shell command run after a failed run, or NULL */
	} report;
	struct {
		char *url;              /* http(s)://HOST[:PORT]/BUCKET[/PREFIX]; NULL: no copy */
		char *region;           /* default us-east-1 */
		char *access_key;
		char *secret_key;       /* sodium_malloc'd (secret_key or secret_key_file) */
		int lock;               /* enum offsite_lock */
		long lock_days;         /* -1: [retention] archive_keep_days (-1 too: none) */
		int required_for_delete; /* PBX deletions wait for the confirmed offsite copy */
		int64_t max_rate;       /* upload bytes/s ([pbx] max_rate's units); 0 none */
		char *ca_file;
		int insecure;
	} offsite;
};

/* Loads `path` and applies `n` overrides ("section.key=value"). Returns 0, or -1 with `err`
 * set ("FILE:LINE: unknown key 'x' in [pbx]", "-o pbx.url: ...", "FILE: [pbx] url is
 * required"). On error *cfg is freed. */
int config_load(const char *path, char *const *overrides, size_t n, struct config *cfg,
		char *err, size_t errlen);
void config_free(struct config *cfg);

/* Lowercase hex MD5 of `password` into `hex` (33 bytes). Exposed for tests. */
void config_md5_hex(const char *password, size_t len, char hex[33]);

#endif
