#!/usr/bin/env bash
# t_age_interop.sh — `nexo-archive keygen` and `decrypt` against Debian's age and age-keygen;
# no PBX. Setup: keys from both tools, files from `age -r` at the chunk-edge sizes.
# Expected: our key files work with age-keygen -y / age -r / age -d; age-keygen's keys and
# age's files (one and several recipients) decrypt byte-exactly with ours, to a folder, next to
# the input and to stdout; a wrong identity or a damaged file exits 1 and leaves no output or
# temp file; an existing output is never overwritten; usage errors exit 2.
# (Our writer's files opened by `age -d` are checked in tests/unit/test_age.c.)
source "$TOP/tests/e2e/lib.sh"

command -v age >/dev/null && command -v age-keygen >/dev/null || skip "age/age-keygen not installed"
cd "$T"

# ag ARGS...: runs nexo-archive; sets RC, OUT (stdout file $T/ag.out) and ERR; never fails.
ag() {
	set +e
	"$NEXO" "$@" >"$T/ag.out" 2>"$T/ag.err"
	RC=$?
	set -e
	ERR=$(cat "$T/ag.err")
	echo "--- nexo-archive $* -> exit $RC"
	sed 's/^/    stderr: /' "$T/ag.err" | tail -n 20
}

expect_err() {
	grep -qF -- "$1" <<<"$ERR" || fail "expected '$1' in stderr: $ERR"
}

# no_leftovers DIR: DIR holds no file at all (no output, no temp file).
no_leftovers() {
	[ -z "$(ls -A "$1")" ] || fail "$1 is not empty: $(ls -A "$1")"
}

# --- keygen: to a file, recipient on stdout
ag keygen -o ours.key
expect_rc 0
R_OURS=$(cat "$T/ag.out")
[[ "$R_OURS" =~ ^age1[02-9ac-hj-np-z]{58}$ ]] || fail "keygen printed '$R_OURS'"
[ "$(stat -c %a ours.key)" = 600 ] || fail "key file mode $(stat -c %a ours.key)"
[ "$(age-keygen -y ours.key)" = "$R_OURS" ] || fail "age-keygen -y disagrees with our recipient"
[ "$(wc -l <ours.key)" = 3 ] || fail "key file is not 3 lines"
grep -qE '^# created: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ours.key ||
	fail "no RFC 3339 created line"
grep -qx "# public key: $R_OURS" ours.key || fail "no public key line"
grep -qE '^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$' ours.key || fail "no secret key line"

# --- keygen: to stdout, "Public key:" on stderr (as age-keygen); never overwrites
ag keygen
expect_rc 0
cp "$T/ag.out" stdout.key
R_STDOUT=$(sed -n 's/^Public key: //p' "$T/ag.err")
[ "$(age-keygen -y stdout.key)" = "$R_STDOUT" ] || fail "stdout key and its recipient differ"
[ "$R_STDOUT" != "$R_OURS" ] || fail "two keygens made the same key"
sum_before=$(sha256sum ours.key)
ag keygen -o ours.key
expect_rc 1
expect_err "already exists"
[ "$(sha256sum ours.key)" = "$sum_before" ] || fail "keygen overwrote a key file"
ln -s "$T/nowhere.key" link.key
ag keygen -o link.key
expect_rc 1
[ ! -e nowhere.key ] || fail "keygen followed a symlink"
ag keygen extra-argument
expect_rc 2

# --- age-keygen's keys, files from age -r at the chunk edges
age-keygen -o theirs.key 2>/dev/null
age-keygen -o other.key 2>/dev/null
R_THEIRS=$(age-keygen -y theirs.key)
mkdir plain enc out
for n in 0 1 65535 65536 65537 196608 5242880; do
	head -c "$n" /dev/urandom >"plain/p$n"
	age -r "$R_OURS" -o "enc/p$n.age" "plain/p$n"
	age -r "$R_THEIRS" -r "$R_OURS" -r "$R_STDOUT" -o "enc/m$n.age" "plain/p$n"
done

# one recipient, our key, to a folder
ag decrypt -i ours.key enc/p*.age -o out
expect_rc 0
for n in 0 1 65535 65536 65537 196608 5242880; do
	cmp "plain/p$n" "out/p$n" || fail "p$n differs"
done
[ "$(stat -c %a out/p1)" = 600 ] || fail "decrypted file mode $(stat -c %a out/p1)"
[ "$(ls -A out | wc -l)" = 7 ] || fail "unexpected files in out: $(ls -A out)"

# three recipients: age-keygen's key and our stdout key each open every file
for key in theirs.key stdout.key; do
	rm -rf out && mkdir out
	ag decrypt -i "$key" enc/m*.age -o out
	expect_rc 0
	for n in 0 1 65535 65536 65537 196608 5242880; do
		cmp "plain/p$n" "out/m$n" || fail "m$n differs with $key"
	done
done

# several -i: the one that matches is used; default output is next to the input
ag decrypt -i other.key -i theirs.key enc/m65537.age
expect_rc 0
cmp plain/p65537 enc/m65537 || fail "default output location"

# stdout
ag decrypt -i theirs.key -o - enc/m5242880.age
expect_rc 0
cmp plain/p5242880 "$T/ag.out" || fail "stdout output differs"

# an existing output is never overwritten
echo keep >out/m1
ag decrypt -i theirs.key enc/m1.age -o out
expect_rc 1
expect_err "already exists"
[ "$(cat out/m1)" = keep ] || fail "decrypt overwrote an existing file"

# wrong identity: exit 1, no output, no temp file
mkdir wrong
ag decrypt -i other.key enc/p65536.age -o wrong
expect_rc 1
expect_err "enc/p65536.age: no matching identity"
no_leftovers wrong

# a damaged middle chunk: nothing left behind in a folder; on stdout, the error says that
# earlier chunks were already written
cp enc/p196608.age bad.age
size=$(stat -c %s bad.age)
off=$((size - 65536 - 100))
flip_byte bad.age "$off"
cmp -s bad.age enc/p196608.age && fail "the damage did not change the file"
mkdir damaged
ag decrypt -i ours.key bad.age -o damaged
expect_rc 1
expect_err "bad.age: chunk 1: authentication failed"
no_leftovers damaged
ag decrypt -i ours.key -o - bad.age
expect_rc 1
expect_err "already written to stdout"
[ "$(stat -c %s "$T/ag.out")" = 65536 ] || fail "stdout got other than the first chunk"
cmp -n 65536 "$T/ag.out" plain/p196608 || fail "the released chunk differs"

# truncated: nothing left behind
head -c $((size - 10)) enc/p196608.age >trunc.age
ag decrypt -i ours.key trunc.age -o damaged
expect_rc 1
expect_err "trunc.age: chunk 2: authentication failed"
no_leftovers damaged

# one bad file among good ones: the good ones are decrypted, exit 1
rm -rf out && mkdir out
ag decrypt -i ours.key enc/p1.age bad.age enc/p65535.age -o out
expect_rc 1
cmp plain/p1 out/p1 && cmp plain/p65535 out/p65535 || fail "good files beside a bad one"
[ "$(ls -A out | wc -l)" = 2 ] || fail "unexpected files in out: $(ls -A out)"

# usage and identity errors
ag decrypt enc/p1.age -o out
expect_rc 2
ag decrypt -i missing.key enc/p1.age -o out
expect_rc 2
expect_err "missing.key"
ag decrypt -i plain/p1 enc/p1.age -o out
expect_rc 2
ag decrypt -i ours.key -o out
expect_rc 2
cp enc/p1.age notage.bin
ag decrypt -i ours.key notage.bin -o out
expect_rc 1
expect_err "does not end in .age"
echo "ok: age interop"
