/* find.h — `nexo-archive find`: searches the manifests for recordings by their call data.
 *
 * Reads only: no lock, no write, not even the .state/ folder other commands create; works on a
 * read-only copy of an archive. Lists ARCHIVE/manifest/ and opens only the day files whose
 * names fall within --from/--to (every day without them), one day at a time, so that memory
 * stays that of one day. Does not check the hash chain or signatures (verify does): a line
 * that does not parse is warned about as "manifest/DAY.jsonl:LINE: why" and skipped.
 *
 * A recording is an "archived" line, with what later lines of its day file say about the same
 * pbx_path: "cdr" (a CDR found later: supersedes the archived line's "cdr"), "pbx_deleted",
 * "pruned", "forgotten". "unavailable" lines, unknown events and later lines about a pbx_path
 * without an archived line are ignored. */
#ifndef NEXO_FIND_H
#define NEXO_FIND_H

struct config;

/* nexo-archive find [--from DAY] [--to DAY] [--src N] [--dst N] [--number N]
 *                   [--disposition D] [--uniqueid ID] [--calltype T] [--json]
 * Prints the recordings that match every filter given, days oldest first, lines in file
 * order. Matching (also in the command's --help):
 *  - --src/--dst: the recording's src/dst or its CDR's; --number: any of those. N matches a
 *    value equal to it or to the part before or inside its parentheses ("202" and "820" match
 *    "820(202)", as hold --number); a trailing '*' makes N a prefix ("+4930*").
 *  - --disposition: the CDR's, case-insensitive; a recording without a CDR never matches.
 *  - --uniqueid: the CDR's, exactly.
 *  - --calltype: case-insensitive, spaces, '-' and '_' ignored ("Call Back" = CallBack), and
 *    "Interval" (the PBX guide's spelling) means Internal.
 * Output on stdout: one line per recording, columns padded to fixed widths — calldate,
 * "src → dst", calltype, disposition, billsec, uniqueid ("-" for no CDR or no value), then the
 * file relative to the archive folder or "(pruned)" / "(forgotten)" — and a last line
 * "N recordings". With --json, only JSON Lines: one object per recording with pbx_path, file
 * (kept for pruned and forgotten ones), status ("archived", "pruned", "forgotten"),
 * pbx_deleted, calldate, src, dst, trunk, calltype, duration, sha256 (null when the line lacks
 * them) and cdr (the CDR object or null). Warnings and errors go to stderr.
 * Returns 0 when it ran (also with no match, and after skipping corrupt lines), 2 usage or
 * config error (bad DAY, --from after --to, unknown option, a filter given twice or empty),
 * 6 the archive or its manifest folder cannot be read, or a day file in range cannot be
 * (the other days are still searched and printed). -h/--help prints the usage, returns 0. */
int cmd_find(const struct config *cfg, int argc, char **argv);

#endif
