/* replay_main.c — a main() for the harnesses without libFuzzer: runs LLVMFuzzerTestOneInput once
 * per file named on the command line (as libFuzzer does when given files), so that the seed
 * corpora and the regression inputs can be replayed by any compiler with ASan and UBSan, in
 * seconds, from `make check` (tests/fuzz/replay.sh). Exits 0 when every input ran; an
 * invariant or sanitizer failure aborts with its report. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			uint8_t *p = realloc(buf, cap ? cap * 2 : 4096);
			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
			cap = cap ? cap * 2 : 4096;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		size_t len = 0;
		uint8_t *buf = slurp(argv[i], &len), *exact;

		if (!buf) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 2;
		}
		/* An exact-size copy, as libFuzzer gives: a read past the end is caught. */
		exact = malloc(len ? len : 1);
		if (!exact)
			return 2;
		memcpy(exact, buf, len);
		free(buf);
		fprintf(stderr, "replay: %s (%zu bytes)\n", argv[i], len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}
