#!/usr/bin/env bash
# make install / uninstall, and the installed units as systemd reads them (issue 15).
# 1) make install DESTDIR=$T/root PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system: every file
#    in place with its mode (binary 755; man pages; 6 units; docs and examples; the config
#    folder 0750 with nexo-archive.conf 0640); the units name /usr/bin/nexo-archive and
#    /etc/nexo-archive/(nexo-archive|%i).conf, and no @VAR@ is left; the timers have
#    RandomizedDelaySec and Persistent=true; the run units accept exit 1 and not 7.
# 2) An edited config survives a second install; the default PREFIX puts the binary and the
#    units under /usr/local.
# 3) systemd-analyze verify (the host's own units copied into the root, so that --root finds
#    sysinit.target) says nothing on any unit, and security --offline=yes scores each service
#    2.5 or less. Where systemd-analyze cannot run here, the test says so and is skipped.
# 4) make uninstall removes every installed file but the config folder.
source "$TOP/tests/e2e/lib.sh"

R="$T/root"
inst() { make -s -C "$TOP" -o "$BUILD/nexo-archive" BUILD="$BUILD" "$@" >"$T/make.out" 2>&1 ||
	fail "make $*: $(tail -n 5 "$T/make.out")"; }
inst install DESTDIR="$R" PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system

mode() { [ "$(stat -c %a "$R$1")" = "$2" ] || fail "$1: mode $(stat -c %a "$R$1" 2>&1), not $2"; }
mode /usr/bin/nexo-archive 755
mode /usr/share/man/man1/nexo-archive.1 644
mode /usr/share/man/man5/nexo-archive.conf.5 644
mode /usr/share/doc/nexo-archive/operations.md 644
mode /usr/share/doc/nexo-archive/README.md 644
mode /usr/share/doc/nexo-archive/examples/nexo-archive.conf 644
mode /usr/share/doc/nexo-archive/examples/nexo-archive.cron 644
mode /etc/nexo-archive 750
mode /etc/nexo-archive/nexo-archive.conf 640
units="nexo-archive.service nexo-archive.timer nexo-archive@.service nexo-archive@.timer
nexo-archive-watch.service nexo-archive-watch@.service"
for u in $units; do mode "/lib/systemd/system/$u" 644; done
[ "$(ls "$R/lib/systemd/system" | wc -l)" -eq 6 ] || fail "unexpected units: $(ls "$R/lib/systemd/system")"
"$R/usr/bin/nexo-archive" --version | grep -q "^nexo-archive $(cat "$TOP/VERSION") " || fail "the installed binary's version"

! grep -rn '@[A-Z]*@' "$R" --include='*.service' --include='*.timer' --include='*.cron' ||
	fail "a placeholder was left in an installed file"
U="$R/lib/systemd/system"
exec_of() { grep -E '^ExecStart=' "$U/$1" | cut -d= -f2-; }
[ "$(exec_of nexo-archive.service)" = "/usr/bin/nexo-archive -c /etc/nexo-archive/nexo-archive.conf run" ] ||
	fail "nexo-archive.service runs: $(exec_of nexo-archive.service)"
[ "$(exec_of nexo-archive@.service)" = "/usr/bin/nexo-archive -c /etc/nexo-archive/%i.conf run" ] ||
	fail "nexo-archive@.service runs: $(exec_of nexo-archive@.service)"
[ "$(exec_of nexo-archive-watch@.service)" = "/usr/bin/nexo-archive -c /etc/nexo-archive/%i.conf watch" ] ||
	fail "nexo-archive-watch@.service runs: $(exec_of nexo-archive-watch@.service)"
grep -q '^30 2 \* \* \*  nexo-archive  /usr/bin/nexo-archive -q -c /etc/nexo-archive/nexo-archive.conf run$' \
	"$R/usr/share/doc/nexo-archive/examples/nexo-archive.cron" || fail "the cron line's paths"
for t in nexo-archive.timer nexo-archive@.timer; do
	grep -q '^RandomizedDelaySec=' "$U/$t" || fail "$t: no RandomizedDelaySec"
	grep -q '^Persistent=true$' "$U/$t" || fail "$t: not Persistent"
done
for s in nexo-archive.service nexo-archive@.service; do
	[ "$(grep '^SuccessExitStatus=' "$U/$s")" = "SuccessExitStatus=1" ] || fail "$s: SuccessExitStatus is not 1 alone"
	grep -q '^Documentation=.*file:///usr/share/doc/nexo-archive/operations.md' "$U/$s" || fail "$s: Documentation path"
done

# The operator's config is never replaced.
echo "# edited" >>"$R/etc/nexo-archive/nexo-archive.conf"
inst install DESTDIR="$R" PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system
tail -n 1 "$R/etc/nexo-archive/nexo-archive.conf" | grep -qx "# edited" || fail "a second install replaced the config"
inst install DESTDIR="$T/local"
[ -x "$T/local/usr/local/bin/nexo-archive" ] || fail "default PREFIX: no /usr/local/bin/nexo-archive"
grep -qx 'ExecStart=/usr/local/bin/nexo-archive -c /etc/nexo-archive/nexo-archive.conf run' \
	"$T/local/usr/local/lib/systemd/system/nexo-archive.service" || fail "default PREFIX: the unit's path"

# systemd's own reading of the installed units.
scores=""
if ! command -v systemd-analyze >/dev/null; then
	skip_analyze="systemd-analyze is not installed"
elif [ ! -d /usr/lib/systemd/system ] || [ ! -e /usr/lib/systemd/system/sysinit.target ]; then
	skip_analyze="no systemd unit tree on this host to verify against"
else
	mkdir -p "$R/usr/lib/systemd/system"
	cp -rP /usr/lib/systemd/system/. "$R/usr/lib/systemd/system/"
	for u in nexo-archive.service nexo-archive.timer nexo-archive@x.service nexo-archive@x.timer \
		nexo-archive-watch.service nexo-archive-watch@x.service; do
		out=$(systemd-analyze verify --root="$R" --man=no "$u" 2>&1) || fail "systemd-analyze verify $u: $out"
		[ -z "$out" ] || fail "systemd-analyze verify $u: $out"
	done
	for u in nexo-archive.service nexo-archive@x.service nexo-archive-watch.service nexo-archive-watch@x.service; do
		out=$(systemd-analyze security --offline=yes --root="$R" "$u" 2>&1) ||
			fail "systemd-analyze security $u: $(tail -n 3 <<<"$out")"
		score=$(grep -oE 'Overall exposure level for [^:]+: [0-9.]+' <<<"$out" | grep -oE '[0-9.]+$')
		[ -n "$score" ] || fail "systemd-analyze security $u printed no score: $(tail -n 3 <<<"$out")"
		awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || fail "$u scores $score (more than 2.5): $(grep '✗' <<<"$out" | head -n 10)"
		scores="$scores $u=$score"
	done
fi

inst uninstall DESTDIR="$R" PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system
rm -rf "$R/usr/lib/systemd/system"
left=$(cd "$R" && find . -type f | sort | tr '\n' ' ')
[ "$left" = "./etc/nexo-archive/nexo-archive.conf " ] || fail "uninstall left: $left"
[ -z "${skip_analyze:-}" ] || skip "install and uninstall checked; systemd-analyze NOT run: $skip_analyze"
echo "ok: verify clean; security:$scores"
