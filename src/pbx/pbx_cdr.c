/* pbx_cdr.c — the three CDR CGIs (pbx_internal.h): 9006 query, 9005 export, 9004 delete, for
 * a span of minutes with every filter open; the answer's body goes to the caller's judge. */
#include "pbx_internal.h"

#include <stdlib.h>

#include "http.h"
#include "base/log.h"

/* json-c holds a parsed 9006 answer at ~9x its size: 2 MiB (some 8,000 calls) keeps that
 * near 20 MB; a larger one is asked for in parts (PBX_TOO_LARGE). A 9005 CSV export (a day's,
 * for the CDR archive) is held twice while it is checked: 12 MiB is some 40,000 calls. */
#define CDR_QUERY_CAP (2u << 20)
#define CDR_EXPORT_CAP (12u << 20)

static void cdr_params(struct sbuf *b, const char *start, const char *end)
{
	pbx_sb_str(b, "startdate=");
	pbx_sb_enc(b, start);
	pbx_sb_str(b, "&enddate=");
	pbx_sb_enc(b, end);
	/* Every filter the guide names, open; the PBX may insist on seeing them all. */
	pbx_sb_str(b, "&src=&dst=&disposition=All&userfield=All&minbillsec=&maxbillsec=&cidname="
		  "&in_route=&IVR=&port=-1");
}

static int cdr_once(struct pbx *p, enum pbx_cdr_cgi cgi, const char *params,
		    pbx_cdr_take_fn take, void *ctx)
{
	static const char *const number[] = { "9006", "9005", "9004" };
	struct http_answer a;
	int style = cgi == PBX_CDR_EXPORT ? STYLE_QUERY : p->style ? p->style : STYLE_POST;
	int saved = p->o.retries, rc, taken = 0;

	if (cgi == PBX_CDR_DELETE)
		p->o.retries = 0; /* a delete is never repeated blindly: the caller re-lists */
	rc = pbx_call(p, number[cgi], params, style, cgi == PBX_CDR_DELETE ? SMALL_CAP :
		      cgi == PBX_CDR_QUERY ? CDR_QUERY_CAP : CDR_EXPORT_CAP, &a);
	p->o.retries = saved;
	if (rc != PBX_OK)
		return rc;
	if (take)
		taken = take(ctx, a.body ? a.body : "", a.len);
	http_answer_free(&a);
	return taken == 1 ? SESSION : taken == 2 ? PBX_TOO_LARGE : taken < 0 ? PBX_FAILED : PBX_OK;
}

int pbx_cdr(struct pbx *p, enum pbx_cdr_cgi cgi, const char *start, const char *end,
	    pbx_cdr_take_fn take, void *ctx)
{
	struct sbuf params = { 0 };
	int rc;

	cdr_params(&params, start, end);
	if (params.oom) {
		free(params.p);
		log_error("out of memory");
		return PBX_FAILED;
	}
	rc = cdr_once(p, cgi, params.p, take, ctx);
	if (rc == SESSION && cgi == PBX_CDR_DELETE) {
		/* Unknown whether it acted: the caller re-lists before deciding anything. */
		rc = pbx_relogin(p) == PBX_OK ? PBX_FAILED : PBX_REFUSED;
	} else if (rc == SESSION) {
		rc = pbx_relogin(p);
		if (rc == PBX_OK)
			rc = cdr_once(p, cgi, params.p, take, ctx);
		if (rc == SESSION) {
			log_error("the PBX turned a CDR request away again right after a new login "
				  "(may user '%s' read CDRs?)", p->o.username);
			rc = PBX_REFUSED;
		}
	}
	free(params.p);
	return rc;
}
