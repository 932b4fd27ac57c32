/* watch.h — `nexo-archive watch`: archive each recording within seconds of its hang-up.
 *
 * Logs in to the PBX's AMI ([ami]) and waits for `AutoMixMonitorEnd` (or a `Cdr` naming a
 * recording). A burst of events is coalesced for [ami] coalesce_ms, then one window from the
 * earliest announced recording to now is listed and archived through the run's own pipeline
 * (sync_window: CDR join, manifest, verification, encryption, signing) — so a recording is
 * stored exactly as the nightly run would store it, and one the run already has is skipped.
 *
 * Cooperation with `run`: both take the archive lock (.state/lock). A watch holds it only for
 * a batch (seconds) and never waits for it: when a run holds it, the batch is retried every
 * few seconds. A run that finds a watch holding it waits for it (up to 30 minutes). So there are
 * no double writes and no deadlock: only one process writes at a time, and the one that waits
 * never holds anything. A watch never deletes: retention stays with the nightly run.
 *
 * After connecting (the first time and after any gap: a dropped connection, a PBX restart), a
 * catch-up window [last sync - [sync] lookback, now] is listed, so recordings announced while
 * nobody listened are archived too. The connection is re-established with doubling delays up
 * to [ami] reconnect_max; a quiet connection is pinged, and dropped when the ping goes
 * unanswered. A window where something did not land (the PBX still writing a file, a broken
 * transfer, the PBX's web API restarting) is tried again after 5 s, doubling, 6 times, then
 * left to the nightly run; these failures are not counted towards [sync] invalid_retries
 * (only runs count). SIGTERM/SIGINT end it at the next safe point (what landed is recorded;
 * a file half written is abandoned); exit 0. */
#ifndef NEXO_WATCH_H
#define NEXO_WATCH_H

#include "base/config.h"

/* `nexo-archive watch` (no arguments). Returns an exit code: 0 after a stop signal, 2 without
 * [ami] username/secret, 5 when the AMI or the PBX refused the login, 6 on storage errors.
 * An unreachable PBX (web API or AMI) is waited for, never an exit. */
int cmd_watch(const struct config *cfg, int argc, char **argv);

#endif
