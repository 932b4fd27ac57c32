# lib.sh — what tests/fuzz/run.sh and tests/fuzz/replay.sh share: the targets, the src files
# each harness links, and an incremental compile of them into a build folder. Sourced.

# shellcheck disable=SC2034
FUZZ_ALL="listing recpath unpack wav config manifest answer cdr csv ami head"
FUZZ_TARGETS=${FUZZ_TARGETS:-$FUZZ_ALL} # a subset from the environment, if given
PKGS="libcurl libarchive json-c libsodium inih libcrypto"

# The src/*.c a harness needs (the module and what it calls), nothing else.
fuzz_sources() {
	case "$1" in
	listing) echo "listing pbxjson utf8 log grow" ;;
	recpath) echo "recpath" ;;
	unpack) echo "unpack recpath log" ;;
	wav) echo "wav" ;;
	config) echo "config config_keys pbxtime clock units" ;;
	manifest) echo "manifest manifest_append jsonfield store fdio marker hash log cdr cdrjoin pbxjson utf8 recname pbxtime clock grow" ;;
	answer) echo "answer" ;;
	cdr) echo "cdr cdrjoin pbxjson utf8 recname pbxtime clock log grow" ;;
	csv) echo "csv log" ;;
	ami) echo "ami recname log" ;;
	head) echo "head_format pbxtime clock log" ;;
	*) return 1 ;;
	esac
}

# -max_len per target: big enough for the seeds that matter, small enough to stay fast.
fuzz_max_len() {
	case "$1" in
	listing) echo 16384 ;;
	recpath) echo 512 ;;
	unpack) echo 24576 ;;
	wav) echo 4096 ;;
	config) echo 4096 ;;
	manifest) echo 8192 ;;
	answer) echo 256 ;;
	cdr) echo 16384 ;;
	csv) echo 8192 ;;
	head) echo 8192 ;;
	ami) echo 16384 ;; # the 64 KiB-message seed is only replayed: 72 KiB inputs run at 300/s
	esac
}

# newer OUT IN...: true when OUT is missing or older than one of IN.
fuzz_stale() {
	local out=$1 f
	shift
	[ -e "$out" ] || return 0
	for f in "$@"; do
		[ "$f" -nt "$out" ] && return 0
	done
	return 1
}

# The .c of module NAME, wherever its layer folder is (src/LAYER/NAME.c).
fuzz_module_src() {
	local f
	for f in "$TOP"/src/*/"$1".c "$TOP"/src/"$1".c; do
		[ -e "$f" ] && { echo "$f"; return 0; }
	done
	echo "fuzz: no src/*/$1.c" >&2
	return 1
}

# fuzz_build DIR CC "CFLAGS" "LDFLAGS" EXTRA_OBJ_SRC TARGET...
# Compiles src/*.c and the harnesses into DIR/obj, links DIR/fuzz_TARGET. EXTRA_OBJ_SRC is a
# .c linked into every binary (the replay main), or "". Prints what it compiles; returns 1
# on the first failure.
fuzz_build() {
	local dir=$1 cc=$2 cflags=$3 ldflags=$4 extra=$5 t s objs o
	local pkg_cflags pkg_libs headers incs c
	shift 5
	pkg_cflags=$(pkg-config --cflags $PKGS) || return 1
	pkg_libs=$(pkg-config --libs $PKGS) || return 1
	headers=$(ls "$TOP"/src/*.h "$TOP"/src/*/*.h "$TOP"/tests/fuzz/*.h 2>/dev/null)
	incs="-I$TOP/src"
	mkdir -p "$dir/obj" || return 1
	for t in "$@"; do
		objs=""
		for s in $(fuzz_sources "$t") ; do
			o="$dir/obj/$s.o"
			# shellcheck disable=SC2086
			c=$(fuzz_module_src "$s") || return 1
			# shellcheck disable=SC2086
			if fuzz_stale "$o" "$c" $headers; then
				echo "  CC $o"
				# shellcheck disable=SC2086
				$cc $cflags $pkg_cflags $incs -c -o "$o" "$c" || return 1
			fi
			objs="$objs $o"
		done
		for s in "$TOP/tests/fuzz/fuzz_$t.c" $extra; do
			o="$dir/obj/$(basename "$s" .c).o"
			# shellcheck disable=SC2086
			if fuzz_stale "$o" "$s" $headers; then
				echo "  CC $o"
				# shellcheck disable=SC2086
				$cc $cflags $pkg_cflags $incs -c -o "$o" "$s" || return 1
			fi
			objs="$objs $o"
		done
		# shellcheck disable=SC2086
		if fuzz_stale "$dir/fuzz_$t" $objs; then
			echo "  LD $dir/fuzz_$t"
			# shellcheck disable=SC2086
			$cc $ldflags -o "$dir/fuzz_$t" $objs $pkg_libs || return 1
		fi
	done
}
