/* test_store.c — the archive folder on disk (store.c): the tree store_open makes, writes as
 * commits (nothing under the final name before commit, nothing left in .state/tmp after commit
 * or abandon), the clean-up of a crashed run's temps (only ours), and the refusal to follow a
 * symlink planted inside the archive, at a date folder or at the file name itself. Each case
 * works in its own temp folder under /tmp. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive/marker.h"
#include "archive/store.h"

struct fixture {
	char dir[64];         /* the temp folder of this case */
	char root[PATH_MAX];  /* dir/archive */
	char other[PATH_MAX]; /* dir/outside: where a planted symlink points */
	mode_t umask_saved;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	f->umask_saved = umask(022);
	snprintf(f->dir, sizeof f->dir, "/tmp/nexo-test-store.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof f->root, "%s/archive", f->dir);
	snprintf(f->other, sizeof f->other, "%s/outside", f->dir);
	if (mkdir(f->other, 0700) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	umask(f->umask_saved);
	free(f);
	return 0;
}

/* Opens the store; with `removed`, also cleans leftover temps as the lock holder does. */
static struct store *open_store(const char *root, unsigned *removed)
{
	char err[512] = "";
	struct store *s = marker_create(root, err, sizeof err) < 0 ? NULL
			  : store_open(root, STORE_WRITE, err, sizeof err);

	if (!s)
		fail_msg("store_open(%s): %s", root, err);
	if (removed)
		*removed = store_clean_temps(s);
	return s;
}

/* Entries of a folder other than "." and "..", or -1 when it cannot be read. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int tmp_entries(const struct fixture *f)
{
	char p[PATH_MAX + 16];

	snprintf(p, sizeof p, "%s/.state/tmp", f->root);
	return count_entries(p);
}

/* Reads a whole (small) file; returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	return n;
}

static void expect_content(const char *path, const char *want)
{
	char buf[4096];
	ssize_t n = slurp(path, buf, sizeof buf);

	if (n < 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, (size_t)n);
}

static void expect_dir_mode(const char *path, mode_t mode)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
}

static void open_creates_tree(void **state)
{
	struct fixture *f = *state;
	char root[PATH_MAX], p[PATH_MAX + 32];
	unsigned removed = 99;
	struct store *s;
	struct stat st;

	/* a root whose parents do not exist yet */
	snprintf(root, sizeof root, "%s/a/b/archive", f->dir);
	s = open_store(root, &removed);
	assert_int_equal(removed, 0);
	expect_dir_mode(root, 0750);
	snprintf(p, sizeof p, "%s/.state", root);
	expect_dir_mode(p, 0750);
	snprintf(p, sizeof p, "%s/.state/tmp", root);
	expect_dir_mode(p, 0750);
	assert_int_equal(count_entries(p), 0);
	assert_string_equal(store_root_path(s), root);
	assert_true(store_root_fd(s) >= 0);
	assert_int_equal(fstat(store_root_fd(s), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	store_close(s);

	/* opening an existing store again works */
	s = open_store(root, NULL);
	store_close(s);
	store_close(NULL);
}

static void open_refuses_a_file_as_root(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	int fd = open(f->root, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	close(fd);
	assert_null(store_open(f->root, STORE_WRITE, err, sizeof err));
	assert_non_null(strstr(err, f->root));
}

/* A missing root is refused and not created; so is a folder without the marker (issue 15: a
 * disk that did not mount must not be filled through its empty mount point). */
static void open_refuses_missing_and_unmarked(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", p[PATH_MAX + 32];
	struct stat st;

	assert_null(store_open(f->root, STORE_WRITE, err, sizeof err));
	assert_non_null(strstr(err, "nexo-archive init"));
	assert_int_equal(stat(f->root, &st), -1);
	assert_int_equal(mkdir(f->root, 0750), 0);
	err[0] = '\0';
	assert_null(store_open(f->root, STORE_WRITE, err, sizeof err));
	assert_non_null(strstr(err, "nexo-archive init"));
	assert_null(store_open(f->root, STORE_READ, err, sizeof err));
	assert_int_equal(count_entries(f->root), 0);
	/* a marker of a newer format is refused, naming it */
	snprintf(p, sizeof p, "%s/" MARKER_NAME, f->root);
	FILE *m = fopen(p, "w");
	assert_non_null(m);
	fputs("nexo-archive archive\nformat 99\n", m);
	fclose(m);
	assert_null(store_open(f->root, STORE_WRITE, err, sizeof err));
	assert_non_null(strstr(err, "format 99"));
	/* init over an unmarked folder marks it; a second init leaves it */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(marker_create(f->root, err, sizeof err), 1);
	assert_int_equal(marker_create(f->root, err, sizeof err), 0);
}

/* STORE_READ creates nothing and writes nothing. */
static void read_only_writes_nothing(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	struct store *s;
	int fd;

	assert_int_equal(marker_create(f->root, err, sizeof err), 1);
	s = store_open(f->root, STORE_READ, err, sizeof err);
	assert_non_null(s);
	assert_true(store_readonly(s));
	fd = store_open_dir(s, ".state", 1, err, sizeof err);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_put(s, "", "x", "y", 1, err, sizeof err), -1);
	assert_int_equal(store_remove(s, "", MARKER_NAME, err, sizeof err), -1);
	assert_int_equal(store_clean_temps(s), 0);
	store_close(s);
	assert_int_equal(count_entries(f->root), 1); /* the marker only */
}

static void commit_makes_the_file(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", path[PATH_MAX + 64];
	struct store *s = open_store(f->root, NULL);
	struct store_file *w;
	struct stat st;

	w = store_begin(s, "2021/03/29", "20210329-x.wav", err, sizeof err);
	if (!w)
		fail_msg("store_begin: %s", err);
	assert_int_equal(store_write(w, "RIFF", 4, err, sizeof err), 0);
	assert_int_equal(store_write(w, "....WAVE", 8, err, sizeof err), 0);
	assert_int_equal(store_write(w, "", 0, err, sizeof err), 0);

	/* before the commit: the bytes sit in one temp, the final name does not exist */
	snprintf(path, sizeof path, "%s/2021/03/29/20210329-x.wav", f->root);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(tmp_entries(f), 1);

	if (store_commit(w, err, sizeof err) != 0)
		fail_msg("store_commit: %s", err);
	expect_content(path, "RIFF....WAVE");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(tmp_entries(f), 0);
	snprintf(path, sizeof path, "%s/2021", f->root);
	expect_dir_mode(path, 0750);
	snprintf(path, sizeof path, "%s/2021/03/29", f->root);
	expect_dir_mode(path, 0750);
	store_close(s);
}

static void two_files_at_once(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", path[PATH_MAX + 64];
	struct store *s = open_store(f->root, NULL);
	struct store_file *a, *b;

	a = store_begin(s, "2021/03/29", "a.wav", err, sizeof err);
	b = store_begin(s, "2021/03/30", "b.wav", err, sizeof err);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(tmp_entries(f), 2);
	assert_int_equal(store_write(b, "bee", 3, err, sizeof err), 0);
	assert_int_equal(store_write(a, "ay", 2, err, sizeof err), 0);
	assert_int_equal(store_commit(b, err, sizeof err), 0);
	assert_int_equal(store_commit(a, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/2021/03/29/a.wav", f->root);
	expect_content(path, "ay");
	snprintf(path, sizeof path, "%s/2021/03/30/b.wav", f->root);
	expect_content(path, "bee");
	assert_int_equal(tmp_entries(f), 0);
	store_close(s);
}

/* A file in flight keeps the folder it was begun in, whatever other files are begun and
 * committed meanwhile (the store's one-folder cache must not pull its folder away). */
static void in_flight_file_keeps_its_folder(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", path[PATH_MAX + 64];
	struct store *s = open_store(f->root, NULL);
	struct store_file *a, *b, *c;

	a = store_begin(s, "2021/03/29", "a.wav", err, sizeof err);
	assert_non_null(a);
	b = store_begin(s, "2021/03/30", "b.wav", err, sizeof err);
	assert_non_null(b);
	assert_int_equal(store_commit(b, err, sizeof err), 0);
	c = store_begin(s, "2021/04/01", "c.wav", err, sizeof err);
	assert_non_null(c);
	assert_int_equal(store_write(a, "ay", 2, err, sizeof err), 0);
	if (store_commit(a, err, sizeof err) != 0)
		fail_msg("store_commit of a.wav: %s", err);
	snprintf(path, sizeof path, "%s/2021/04/01/a.wav", f->root);
	if (access(path, F_OK) == 0)
		fail_msg("a.wav, begun in 2021/03/29, was committed into 2021/04/01");
	snprintf(path, sizeof path, "%s/2021/03/29/a.wav", f->root);
	expect_content(path, "ay");
	store_abandon(c);
	assert_int_equal(tmp_entries(f), 0);
	store_close(s);
}

static void abandon_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", path[PATH_MAX + 64];
	struct store *s = open_store(f->root, NULL);
	struct store_file *w;

	w = store_begin(s, "2021/03/29", "x.wav", err, sizeof err);
	assert_non_null(w);
	assert_int_equal(store_write(w, "partial", 7, err, sizeof err), 0);
	assert_int_equal(tmp_entries(f), 1);
	store_abandon(w);
	store_abandon(NULL);
	assert_int_equal(tmp_entries(f), 0);
	snprintf(path, sizeof path, "%s/2021/03/29", f->root);
	assert_int_equal(count_entries(path), 0);
	store_close(s);
}

static void plant(const char *dir, const char *name)
{
	char p[PATH_MAX + 64];
	int fd;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		fail_msg("cannot create %s: %s", p, strerror(errno));
	assert_int_equal(write(fd, "junk", 4), 4);
	close(fd);
}

static int exists(const char *dir, const char *name)
{
	char p[PATH_MAX + 64];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

static void clean_removes_leftover_temps(void **state)
{
	struct fixture *f = *state;
	char tmp[PATH_MAX + 16];
	unsigned removed = 99;
	struct store *s = open_store(f->root, NULL);

	store_close(s);
	snprintf(tmp, sizeof tmp, "%s/.state/tmp", f->root);
	plant(tmp, "4242.0.nexo-tmp");
	plant(tmp, "4242.17.nexo-tmp");
	plant(tmp, "1.0.nexo-tmp");
	plant(tmp, "keep.txt");
	plant(tmp, "x.nexo-tmp.bak");
	plant(tmp, "nexo-tmp");

	s = open_store(f->root, &removed);
	assert_int_equal(removed, 3);
	assert_false(exists(tmp, "4242.0.nexo-tmp"));
	assert_false(exists(tmp, "4242.17.nexo-tmp"));
	assert_false(exists(tmp, "1.0.nexo-tmp"));
	assert_true(exists(tmp, "keep.txt"));
	assert_true(exists(tmp, "x.nexo-tmp.bak"));
	assert_true(exists(tmp, "nexo-tmp"));
	store_close(s);

	/* nothing left to remove: counted 0 */
	s = open_store(f->root, &removed);
	assert_int_equal(removed, 0);
	store_close(s);

	/* Opening alone removes nothing: a run that has not taken the lock must not touch
	 * the temps of the run that holds it (regression: it once did). */
	plant(tmp, "9.9.nexo-tmp");
	s = open_store(f->root, NULL);
	assert_true(exists(tmp, "9.9.nexo-tmp"));
	assert_int_equal(store_clean_temps(s), 1);
	assert_false(exists(tmp, "9.9.nexo-tmp"));
	store_close(s);
}

/* root/2021 is a symlink to a folder outside the archive: no write may go through it. */
static void symlink_date_folder_refused(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", link[PATH_MAX + 16];
	struct store *s = open_store(f->root, NULL);
	int fd;

	snprintf(link, sizeof link, "%s/2021", f->root);
	assert_int_equal(symlink(f->other, link), 0);

	err[0] = '\0';
	assert_null(store_begin(s, "2021/03/29", "x.wav", err, sizeof err));
	assert_true(strlen(err) > 0);
	assert_int_equal(store_put(s, "2021/03/29", "x.wav", "evil", 4, err, sizeof err), -1);
	assert_int_equal(store_put(s, "2021", "x.wav", "evil", 4, err, sizeof err), -1);
	errno = 0;
	fd = store_open_dir(s, "2021/03/29", 1, err, sizeof err);
	assert_int_equal(fd, -1);
	assert_true(errno == ELOOP || errno == ENOTDIR);
	assert_int_equal(store_open_dir(s, "2021", 0, err, sizeof err), -1);

	/* the target stays empty, the link stays a link, no temp is left */
	assert_int_equal(count_entries(f->other), 0);
	assert_int_equal(tmp_entries(f), 0);
	{
		struct stat st;
		assert_int_equal(lstat(link, &st), 0);
		assert_true(S_ISLNK(st.st_mode));
	}
	store_close(s);
}

/* The same one level down, and a dangling link that mkdir must not create through. */
static void symlink_deeper_and_dangling(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", p[PATH_MAX + 32], target[PATH_MAX + 32];
	struct store *s = open_store(f->root, NULL);

	snprintf(p, sizeof p, "%s/2022", f->root);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof p, "%s/2022/03", f->root);
	assert_int_equal(symlink(f->other, p), 0);
	assert_int_equal(store_put(s, "2022/03/01", "x.wav", "evil", 4, err, sizeof err), -1);
	assert_int_equal(count_entries(f->other), 0);

	snprintf(p, sizeof p, "%s/2023", f->root);
	snprintf(target, sizeof target, "%s/not-yet", f->other);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(store_put(s, "2023/01/01", "x.wav", "evil", 4, err, sizeof err), -1);
	assert_int_equal(count_entries(f->other), 0);
	assert_int_equal(tmp_entries(f), 0);
	store_close(s);
}

/* A symlink planted under the final name is replaced, not written through. */
static void symlink_at_file_name_replaced(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", p[PATH_MAX + 64], victim[PATH_MAX + 16];
	struct store *s = open_store(f->root, NULL);
	struct stat st;
	int fd;

	snprintf(victim, sizeof victim, "%s/victim", f->other);
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "original", 8), 8);
	close(fd);
	fd = store_open_dir(s, "2021/03/29", 1, err, sizeof err);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof p, "%s/2021/03/29/x.wav", f->root);
	assert_int_equal(symlink(victim, p), 0);

	assert_int_equal(store_put(s, "2021/03/29", "x.wav", "new", 3, err, sizeof err), 0);
	expect_content(victim, "original");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	expect_content(p, "new");
	store_close(s);
}

static void put_replaces_atomically(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", p[PATH_MAX + 64], buf[64];
	struct store *s = open_store(f->root, NULL);
	int old;

	assert_int_equal(store_put(s, ".state", "checkpoint", "old", 3, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/.state/checkpoint", f->root);
	expect_content(p, "old");
	old = open(p, O_RDONLY);
	assert_true(old >= 0);

	assert_int_equal(store_put(s, ".state", "checkpoint", "brand new", 9, err, sizeof err), 0);
	expect_content(p, "brand new");
	/* the old file was replaced by a rename, not rewritten in place */
	assert_int_equal(read(old, buf, sizeof buf), 3);
	assert_memory_equal(buf, "old", 3);
	close(old);
	assert_int_equal(tmp_entries(f), 0);

	/* an empty file is a valid commit too */
	assert_int_equal(store_put(s, ".state", "checkpoint", "", 0, err, sizeof err), 0);
	expect_content(p, "");
	store_close(s);
}

static void remove_files(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", dir[PATH_MAX + 32], victim[PATH_MAX + 16];
	struct store *s = open_store(f->root, NULL);
	int fd;

	assert_int_equal(store_put(s, "2021/03/29", "a.wav", "aaa", 3, err, sizeof err), 0);
	assert_int_equal(store_put(s, "2021/03/29", "b.wav", "bbb", 3, err, sizeof err), 0);
	snprintf(dir, sizeof dir, "%s/2021/03/29", f->root);
	assert_true(exists(dir, "a.wav"));
	assert_int_equal(store_remove(s, "2021/03/29", "a.wav", err, sizeof err), 0);
	assert_false(exists(dir, "a.wav"));
	assert_true(exists(dir, "b.wav"));
	/* already gone counts as removed */
	assert_int_equal(store_remove(s, "2021/03/29", "a.wav", err, sizeof err), 0);

	/* a symlink is removed itself; its target is left alone */
	snprintf(victim, sizeof victim, "%s/victim", f->other);
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	{
		char link[PATH_MAX + 64];
		snprintf(link, sizeof link, "%s/link.wav", dir);
		assert_int_equal(symlink(victim, link), 0);
	}
	assert_int_equal(store_remove(s, "2021/03/29", "link.wav", err, sizeof err), 0);
	assert_false(exists(dir, "link.wav"));
	assert_true(exists(f->other, "victim"));

	/* a folder behind a symlink cannot be reached for removal either */
	{
		char link[PATH_MAX + 16];
		snprintf(link, sizeof link, "%s/2030", f->root);
		assert_int_equal(symlink(f->other, link), 0);
	}
	assert_int_equal(store_remove(s, "2030", "victim", err, sizeof err), -1);
	assert_true(exists(f->other, "victim"));
	store_close(s);
}

static void open_dir_rules(void **state)
{
	static const char *const bad[] = { "..", "../outside", "2021/../..", "/etc", "/", ".",
					   "2021/./03", "2021//03", "a/..", "./2021" };
	struct fixture *f = *state;
	char err[512] = "", p[PATH_MAX + 16];
	struct store *s = open_store(f->root, NULL);
	int fd;

	errno = 0;
	assert_int_equal(store_open_dir(s, "manifest", 0, err, sizeof err), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(p, sizeof p, "%s/manifest", f->root);
	assert_false(exists(f->root, "manifest"));

	fd = store_open_dir(s, "manifest", 1, err, sizeof err);
	assert_true(fd >= 0);
	close(fd);
	expect_dir_mode(p, 0750);
	fd = store_open_dir(s, "manifest", 0, err, sizeof err);
	assert_true(fd >= 0);
	close(fd);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		fd = store_open_dir(s, bad[i], 1, err, sizeof err);
		if (fd >= 0)
			fail_msg("store_open_dir accepted \"%s\"", bad[i]);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(count_entries(f->other), 0);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_creates_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(open_refuses_a_file_as_root, setup, teardown),
		cmocka_unit_test_setup_teardown(open_refuses_missing_and_unmarked, setup, teardown),
		cmocka_unit_test_setup_teardown(read_only_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(commit_makes_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(two_files_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(in_flight_file_keeps_its_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(abandon_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(clean_removes_leftover_temps, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_date_folder_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_deeper_and_dangling, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_at_file_name_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(put_replaces_atomically, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_files, setup, teardown),
		cmocka_unit_test_setup_teardown(open_dir_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
