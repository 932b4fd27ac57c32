/*
 * fakepbx.h — the server configuration shared by every fakepbx module.
 *
 * main.c fills one struct fpx_config from the command line before the HTTP
 * daemon starts; after that it is never written again, so the connection
 * threads read it without a lock. The enums are the "variation switches":
 * points where the vendor guide is vague and real PBX firmwares differ, so
 * the fake can play every reasonable reading against the client.
 */
#ifndef FAKEPBX_H
#define FAKEPBX_H

#include <stdbool.h>

#include "fault.h"

/* --list-style: how the rows of CGI 20053 are wrapped. */
enum fpx_list_style {
	FPX_LIST_ARRAY,    /* {"json_array_recordings":[...],"json_obj_filter":{}} */
	FPX_LIST_NUMBERED, /* {"0":{...},"1":{...},"json_obj_filter":{}} */
	FPX_LIST_KEYED,    /* {"recordings":[...],"json_obj_filter":{}} */
	FPX_LIST_BARE,     /* [...] */
};

/* --tar-names: how tar entries of CGI 20036 are named. */
enum fpx_tar_names {
	FPX_TAR_FULL,     /* YYYYMMDD/name.wav */
	FPX_TAR_BASE,     /* name.wav */
	FPX_TAR_DOTSLASH, /* ./YYYYMMDD/name.wav */
};

/* --download-key: which spelling of the download parameter is understood. */
enum fpx_dl_key {
	FPX_KEY_BOTH,
	FPX_KEY_WAVEFILES,
	FPX_KEY_WAVFILES,
};

/* --login-style: where CGI 8404 reads UserName/Password from. */
enum fpx_login_style {
	FPX_LOGIN_ANY,
	FPX_LOGIN_POST,
	FPX_LOGIN_QUERY,
};

/* --no-session: how a request without a valid session is answered. */
enum fpx_nosess {
	FPX_NOSESS_JSON,     /* 200 + {"status":"fail",...} */
	FPX_NOSESS_HTML,     /* 200 + HTML login page */
	FPX_NOSESS_401,      /* 401 + JSON error */
	FPX_NOSESS_REDIRECT, /* 302 to /login.html */
	FPX_NOSESS_STATUS6,  /* 200 + {"status":-6} */
};

/* --cdr-style: how the rows of CGI 9006 are wrapped. */
enum fpx_cdr_style {
	FPX_CDR_ARRAY,    /* "json_array_astcdrs":[{...},...] */
	FPX_CDR_NUMBERED, /* "json_array_astcdrs":{"0":{...},...} */
};

/* --cdr-recording-name: how CGIs 9006/9005 spell "Recording filename". */
enum fpx_cdr_recname {
	FPX_CDR_RELATIVE, /* "YYYYMMDD/name.wav" (the listing path) */
	FPX_CDR_FULL,     /* "/media/usbStorage/monitor/YYYYMMDD/name", as AMI */
	FPX_CDR_NONE,     /* "" on every row */
};

/* --end-bound: how enddate "… HH:MM" compares with a call's seconds. */
enum fpx_end_bound {
	FPX_END_THROUGH,   /* calldate <= HH:MM:59 */
	FPX_END_MINUTE,    /* calldate <= HH:MM:00 */
	FPX_END_EXCLUSIVE, /* calldate <  HH:MM:00 */
};

/* --start-bound: how startdate "… HH:MM" compares. */
enum fpx_start_bound {
	FPX_START_INCLUSIVE, /* calldate >= HH:MM:00 */
	FPX_START_EXCLUSIVE, /* calldate >  HH:MM:00 */
};

struct cdr_store;

struct fpx_config {
	const char *data_dir;     /* the PBX "USB disk": DIR/YYYYMMDD/name.wav */
	const char *user;         /* login name (default admin) */
	char password_md5[33];    /* lowercase hex MD5 of the password */
	long max_rows;            /* 0: unlimited */
	long max_url;             /* 0: unlimited */
	int delete_log_fd;        /* -1: no oracle log */
	int request_log_fd;       /* -1: no --request-log */
	struct fault_set faults;
	enum fpx_list_style list_style;
	enum fpx_tar_names tar_names;
	enum fpx_dl_key download_key;
	enum fpx_dl_key delete_key;  /* --delete-key: the same for CGI 20054 */
	long delete_no_session;      /* the first N valid 20054 requests: session died */
	enum fpx_login_style login_style;
	enum fpx_nosess no_session;
	bool int_values;          /* duration as number, totalcount as string */
	bool list_sizes;          /* rows carry their file's true "size" (the guide's have none) */
	bool bare_single;         /* one-file download answers the bare WAV */
	bool totalcount_missing;  /* omit totalcount from json_obj_filter */
	bool totalcount_capped;   /* totalcount = rows sent (after --max-rows), 20053 and 9006 */
	size_t long_fields;       /* --long-fields N: cosmetic fields N characters long; 0 off */
	bool any_folder;          /* --any-folder: recordings in any folder chain, or bare */
	enum fpx_end_bound end_bound;     /* 20053 and 9006/9005/9004 */
	enum fpx_start_bound start_bound;
	bool list_call_start;     /* --list-call-start: 20053 filters on the call's start (its
	                             CDR's calldate), rows still show the recording's time */
	/* CDR CGIs 9006/9005/9004 */
	struct cdr_store *cdrs;   /* the rows of DIR/cdr.jsonl */
	enum fpx_cdr_style cdr_style;
	enum fpx_cdr_recname cdr_recname;
	bool cdr_int_values;      /* duration/billsec as JSON numbers */
	bool cdr_csv_noheader;    /* 9005 without its header line */
	int cdr_delete_log_fd;    /* -1: no --cdr-delete-log */
};

#endif
