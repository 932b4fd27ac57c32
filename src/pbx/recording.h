/* recording.h — the one value every stage passes along: a recording as the PBX lists it.
 *
 * Fields are fixed-size so a listing of 100,000 rows is one allocation and nothing on the hot
 * path allocates. Every field comes from the PBX and is untrusted: lengths are capped here, and
 * a path that does not fit is refused by the parser (listing.c); a field that is only shown
 * (src, dst, trunk, calltype) is cut to fit and said so in `cut`, never dropping the row. */
#ifndef NEXO_RECORDING_H
#define NEXO_RECORDING_H

#define REC_PATH_MAX 256  /* "YYYYMMDD/<name>.wav" as the PBX names it */
#define REC_FIELD_MAX 64  /* src, dst, trunk, calltype */
#define REC_DATE_LEN 19   /* "YYYY-MM-DD HH:MM:SS" */

/* Which of a row's shown fields were cut to fit (struct recording's `cut`). */
enum { REC_CUT_SRC = 1, REC_CUT_DST = 2, REC_CUT_TRUNK = 4, REC_CUT_CALLTYPE = 8 };

struct recording {
	char pbx_path[REC_PATH_MAX];
	char calldate[REC_DATE_LEN + 1]; /* PBX local time, call start */
	char src[REC_FIELD_MAX];
	char dst[REC_FIELD_MAX];
	char trunk[REC_FIELD_MAX];
	char calltype[REC_FIELD_MAX];
	unsigned cut;    /* REC_CUT_* bits: fields the PBX sent longer than they fit, kept cut */
	long duration;   /* seconds as listed (may include ringing); -1 when absent */
	long long size;  /* bytes, when the listing states it; -1 when absent */
	/* Not from the listing: set by the run. Which archived version a fetch of it makes (1 for
	 * the path's first copy; 0 read as 1), and the call's CDR when it consulted the PBX's
	 * CDRs (cdrsync.h). */
	unsigned version;
	const struct cdr *cdr; /* the call's record, or NULL */
	int cdr_join;          /* enum cdr_join_how of `cdr`; 0 with cdr_looked_up: none found */
	int cdr_looked_up;     /* CDRs were listed for this recording's window */
};

struct cdr;

/* Bytes a recording is expected to take: the size the listing states, else its listed
 * duration at 8 kHz 16-bit mono (the PBX's usual format; a listed duration includes ringing,
 * so this errs high), else `unknown`. For budgets and estimates, never for checks. */
static inline unsigned long long recording_expected_bytes(const struct recording *rec,
							  unsigned long long unknown)
{
	return rec->size >= 0 ? (unsigned long long)rec->size
	       : rec->duration >= 0 ? (unsigned long long)rec->duration * 16000 + 44
				    : unknown;
}

#endif
