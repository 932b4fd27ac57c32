#!/usr/bin/env bash
# The Debian package (issue 15): `make deb` builds nexo-archive_VERSION_amd64.deb with
# dpkg-buildpackage, and lintian reports no error (make deb fails otherwise).
# Checks on the .deb (dpkg-deb -c, -I, -e): the program, both man pages and the six units under
# /usr and /lib/systemd/system, the docs and examples, /var/lib/nexo-archive, the example config
# as the one conffile; the units name /usr/bin and /etc/nexo-archive; Depends on adduser;
# postinst makes the nexo-archive system user and group, /etc/nexo-archive 0750
# root:nexo-archive and /var/lib/nexo-archive owned by the user, and enables or starts nothing
# (dh_installsystemd --no-enable --no-start: only a unit the admin had enabled is re-enabled).
source "$TOP/tests/e2e/lib.sh"

command -v dpkg-buildpackage >/dev/null && command -v lintian >/dev/null ||
	fail "dpkg-buildpackage or lintian is missing (make deps-dev installs them)"
version=$(cat "$TOP/VERSION")
make -s -C "$TOP" deb DEBDIR="$T/deb" >"$T/deb.log" 2>&1 || fail "make deb: $(tail -n 15 "$T/deb.log")"
deb="$T/deb/nexo-archive_${version}_amd64.deb"
[ -f "$deb" ] || fail "no $deb"
grep -q "^nexo-archive ($version)" "$TOP/debian/changelog" || fail "debian/changelog's version is not VERSION's ($version)"

dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' >"$T/contents"
has() { grep -qE "^$1 root/root \\./$2\$" "$T/contents" || fail "the package lacks $2 ($1): $(grep -F "$2" "$T/contents")"; }
has -rwxr-xr-x usr/bin/nexo-archive
has -rw-r--r-- usr/share/man/man1/nexo-archive.1.gz
has -rw-r--r-- usr/share/man/man5/nexo-archive.conf.5.gz
for u in nexo-archive.service nexo-archive.timer nexo-archive@.service nexo-archive@.timer \
	nexo-archive-watch.service nexo-archive-watch@.service; do
	has -rw-r--r-- "lib/systemd/system/$u"
done
has -rw-r--r-- usr/share/doc/nexo-archive/operations.md.gz
has -rw-r--r-- usr/share/doc/nexo-archive/copyright
has -rw-r--r-- usr/share/doc/nexo-archive/examples/nexo-archive.conf
has -rw-r--r-- usr/share/doc/nexo-archive/examples/nexo-archive.cron
has -rw-r--r-- etc/nexo-archive/nexo-archive.conf
has drwxr-xr-x var/lib/nexo-archive/
! grep -E '\./usr/local|\./srv' "$T/contents" || fail "the package installs outside /usr, /etc, /lib, /var"

dpkg-deb -I "$deb" >"$T/info"
grep -qE '^ Package: nexo-archive$' "$T/info" || fail "package name"
grep -qE "^ Version: $version\$" "$T/info" || fail "version"
grep -qE '^ Architecture: amd64$' "$T/info" || fail "architecture"
grep -qE '^ Depends: .*\badduser\b' "$T/info" || fail "no Depends on adduser"
grep -qE '^ Depends: .*libcurl4.*libsodium23' "$T/info" || fail "shlibs dependencies missing: $(grep Depends "$T/info")"

dpkg-deb -e "$deb" "$T/control"
[ "$(cat "$T/control/conffiles")" = /etc/nexo-archive/nexo-archive.conf ] || fail "conffiles: $(cat "$T/control/conffiles")"
p="$T/control/postinst"
grep -q 'adduser --system --group --home /var/lib/nexo-archive' "$p" || fail "postinst makes no system user and group"
grep -q 'chown root:nexo-archive /etc/nexo-archive' "$p" && grep -q 'chmod 0750 /etc/nexo-archive' "$p" ||
	fail "postinst does not make /etc/nexo-archive 0750 root:nexo-archive"
grep -q 'chown nexo-archive:nexo-archive /var/lib/nexo-archive' "$p" || fail "postinst does not give /var/lib/nexo-archive to the user"
! grep -E 'systemctl (start|restart)|deb-systemd-invoke (start|restart)' "$T/control"/* ||
	fail "a maintainer script starts a unit"
# Enabling only where the admin had enabled the unit before (an upgrade keeps their choice).
[ "$(grep -c 'deb-systemd-helper enable' "$p")" = "$(grep -c 'was-enabled' "$p")" ] ||
	fail "postinst enables a unit the admin had not enabled"
sh -n "$p" || fail "postinst does not parse"

mkdir -p "$T/x"
dpkg-deb -x "$deb" "$T/x"
grep -qx 'ExecStart=/usr/bin/nexo-archive -c /etc/nexo-archive/%i.conf run' "$T/x/lib/systemd/system/nexo-archive@.service" ||
	fail "the packaged template unit's ExecStart"
"$T/x/usr/bin/nexo-archive" --version | grep -q "^nexo-archive $version " || fail "the packaged binary's --version"
"$T/x/usr/bin/nexo-archive" --help | grep -q "default /etc/nexo-archive/nexo-archive.conf" ||
	fail "the packaged binary's default config"
lint=$(grep -E '^[EW]: ' "$T/deb.log" || true)
echo "ok: $(wc -l <"$T/contents") entries; lintian: ${lint:-no errors or warnings}"
