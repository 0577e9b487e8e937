/* Unit tests: bounded reads, atomic writes, nothing half-written left behind. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = make_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void read_limits(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char path[4200];
	uint8_t *data = NULL;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	write_file(path, "0123456789", 10);
	assert_int_equal(hfw_file_read(&data, &len, path, 10, "thing", &err), 0);
	assert_int_equal(len, 10);
	assert_int_equal(data[10], 0);
	free(data);
	assert_int_equal(hfw_file_read(&data, &len, path, 9, "thing", &err), HFW_ELIMIT);
	assert_null(data);
	assert_non_null(strstr(err.text, "thing"));
	assert_int_equal(hfw_file_read(&data, &len, dir, 9, "thing", &err), HFW_EIO);
	assert_non_null(strstr(err.text, "is a directory"));
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(hfw_file_read(&data, &len, path, 9, "thing", &err), HFW_EIO);
	assert_non_null(strstr(err.text, "No such file"));
	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "", 0);
	assert_int_equal(hfw_file_read(&data, &len, path, 9, "thing", &err), 0);
	assert_int_equal(len, 0);
	free(data);
}

static void atomic_write(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_atomic a = HFW_ATOMIC_INIT;
	char path[4200];
	uint8_t *data = NULL;
	size_t len;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/out", dir);
	write_file(path, "old", 3);
	/* An abandoned write leaves the old file and no temporary. */
	assert_int_equal(hfw_atomic_open(&a, path, &err), 0);
	assert_int_equal(hfw_atomic_write(&a, "new!", 4, &err), 0);
	assert_true(entries() <= 2);	/* 1 with O_TMPFILE: the new file has no name yet */
	hfw_atomic_release(&a);
	assert_int_equal(entries(), 1);
	assert_int_equal(hfw_file_read(&data, &len, path, 100, "out", &err), 0);
	assert_memory_equal(data, "old", 3);
	free(data);
	/* A committed one replaces it whole. */
	assert_int_equal(hfw_file_write_atomic(path, "new!", 4, &err), 0);
	assert_int_equal(entries(), 1);
	assert_int_equal(hfw_file_read(&data, &len, path, 100, "out", &err), 0);
	assert_int_equal(len, 4);
	free(data);
	/* Secrets stay private. */
	assert_int_equal(hfw_atomic_open_private(&a, path, &err), 0);
	assert_int_equal(hfw_atomic_write(&a, "key", 3, &err), 0);
	assert_int_equal(hfw_atomic_commit(&a, &err), 0);
	hfw_atomic_release(&a);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Nowhere to write. */
	snprintf(path, sizeof(path), "%s/no/such/dir/out", dir);
	assert_int_equal(hfw_file_write_atomic(path, "x", 1, &err), HFW_EIO);
	assert_int_equal(hfw_file_write_atomic(dir, "x", 1, &err), HFW_EIO);
}

static void signal_cleanup(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_atomic a = HFW_ATOMIC_INIT;
	char path[4200];

	(void)state;
	snprintf(path, sizeof(path), "%s/pending", dir);
	assert_int_equal(hfw_atomic_open(&a, path, &err), 0);
	assert_true(entries() <= 1);	/* 0 with O_TMPFILE */
	hfw_atomic_cleanup_signal_safe();
	assert_int_equal(entries(), 0);
	hfw_atomic_release(&a);
}

/* path = dir/name */
static const char *in_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

/* hfw_output_check refuses path with HFW_EIO and a message containing why. */
static void refused(const char *name, const char *why)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char path[4200], *target = (char *)"unset";

	in_dir(path, sizeof(path), name);
	assert_int_equal(hfw_output_check(&target, path, &err), HFW_EIO);
	assert_null(target);
	if (!strstr(err.text, why) || !strstr(err.text, name))
		fail_msg("%s: '%s' does not say '%s'", name, err.text, why);
	/* The atomic writer refuses it too, and leaves what was there. */
	assert_int_equal(hfw_file_write_atomic(path, "x", 1, &err), HFW_EIO);
}

static void output_destinations(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct sockaddr_un sa;
	struct stat st;
	char path[4200], other[4200], *target = NULL;
	int fd;

	(void)state;
	assert_int_equal(mkfifo(in_dir(path, sizeof(path), "fifo"), 0600), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	in_dir(path, sizeof(path), "sock");
	if (strlen(path) >= sizeof(sa.sun_path))
		skip();
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(mkdir(in_dir(path, sizeof(path), "sub"), 0700), 0);
	assert_int_equal(symlink("/proc/self/fd/1", in_dir(path, sizeof(path), "stdout")), 0);
	assert_int_equal(symlink("/dev/null", in_dir(path, sizeof(path), "null")), 0);
	assert_int_equal(symlink("/dev/fd/1", in_dir(path, sizeof(path), "devfd")), 0);
	assert_int_equal(symlink("/proc/self/cwd/x", in_dir(path, sizeof(path), "cwd")), 0);
	assert_int_equal(symlink("fifo", in_dir(path, sizeof(path), "to-fifo")), 0);
	assert_int_equal(symlink("missing", in_dir(path, sizeof(path), "dangling")), 0);
	assert_int_equal(symlink("loop", in_dir(path, sizeof(path), "loop")), 0);

	refused("fifo", "it is a FIFO, not a regular file");
	refused("sock", "it is a socket, not a regular file");
	refused("sub", "it is a directory, not a regular file");
	refused("stdout", "it is a symlink into /proc");
	refused("null", "it is a symlink into /dev");
	refused("devfd", "it is a symlink into /dev");
	refused("cwd", "it is a symlink into /proc");
	refused("to-fifo", "it is a symlink to a FIFO, not a regular file");
	refused("dangling", "it is a symlink that leads to nothing");
	refused("loop", "loop");
	assert_true(lstat(in_dir(path, sizeof(path), "fifo"), &st) == 0 && S_ISFIFO(st.st_mode));
	assert_true(lstat(in_dir(path, sizeof(path), "sock"), &st) == 0 && S_ISSOCK(st.st_mode));
	assert_true(lstat(in_dir(path, sizeof(path), "stdout"), &st) == 0 && S_ISLNK(st.st_mode));
	assert_true(lstat(in_dir(path, sizeof(path), "null"), &st) == 0 && S_ISLNK(st.st_mode));
	assert_true(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
	/* Under /proc, /sys or /dev: refused by the name alone (nothing is written to find out). */
	assert_int_equal(hfw_output_check(NULL, "/dev/null", &err), HFW_EIO);
	assert_non_null(strstr(err.text, "under /dev"));
	assert_int_equal(hfw_output_check(NULL, "/proc/self/comm", &err), HFW_EIO);
	assert_int_equal(hfw_output_check(NULL, "/sys/x", &err), HFW_EIO);
	assert_int_equal(hfw_output_check(NULL, "/tmp/../dev/x", &err), HFW_EIO);

	/* A new name, and a regular file: written where named. */
	assert_int_equal(hfw_output_check(&target, in_dir(path, sizeof(path), "new"), &err), 0);
	assert_string_equal(target, path);
	free(target);
	/* A symlink to a regular file: written through, the link kept. */
	write_file(in_dir(other, sizeof(other), "sub/real"), "old", 3);
	assert_int_equal(symlink("sub/real", in_dir(path, sizeof(path), "link")), 0);
	assert_int_equal(hfw_file_write_atomic(path, "new!", 4, &err), 0);
	assert_true(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
	assert_true(stat(other, &st) == 0 && st.st_size == 4);
	/* Directories: an existing one or a new name; never a FIFO or a symlink into /proc. */
	assert_int_equal(hfw_output_dir_check(in_dir(path, sizeof(path), "sub"), &err), 0);
	assert_int_equal(hfw_output_dir_check(in_dir(path, sizeof(path), "newdir"), &err), 0);
	assert_int_equal(hfw_output_dir_check(in_dir(path, sizeof(path), "fifo"), &err), HFW_EIO);
	assert_non_null(strstr(err.text, "it is a FIFO, not a directory"));
	assert_int_equal(symlink("/proc/self", in_dir(path, sizeof(path), "procdir")), 0);
	assert_int_equal(hfw_output_dir_check(path, &err), HFW_EIO);
	assert_non_null(strstr(err.text, "symlink into /proc"));
	assert_int_equal(hfw_output_dir_check("/dev/shm", &err), HFW_EIO);
}

/* Whatever takes the name while a write is pending is not replaced unless it is a regular file. */
static void commit_rechecks(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_atomic a = HFW_ATOMIC_INIT;
	struct stat st;
	char path[4200];

	(void)state;
	in_dir(path, sizeof(path), "out");
	write_file(path, "old", 3);
	assert_int_equal(hfw_atomic_open(&a, path, &err), 0);
	assert_int_equal(hfw_atomic_write(&a, "new!", 4, &err), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(hfw_atomic_commit(&a, &err), HFW_EIO);
	assert_non_null(strstr(err.text, "it is now a FIFO, not a regular file"));
	hfw_atomic_release(&a);
	assert_true(lstat(path, &st) == 0 && S_ISFIFO(st.st_mode));
	assert_int_equal(entries(), 1);
}

/* Many files committed together: each whole, one refused alone, the others in place. */
static void commit_many(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT, errs[4];
	struct hfw_atomic a[4] = { HFW_ATOMIC_INIT, HFW_ATOMIC_INIT, HFW_ATOMIC_INIT, HFW_ATOMIC_INIT };
	int rets[4] = { 0, 0, 1, 0 };
	char path[4][4200], name[8];
	uint8_t *data = NULL;
	size_t i, len;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		in_dir(path[i], sizeof(path[i]), name);
		memset(&errs[i], 0, sizeof(errs[i]));
	}
	write_file(path[1], "old", 3);
	for (i = 0; i < 4; i++) {
		if (i == 2)
			continue;	/* not opened: left alone, its ret untouched */
		assert_int_equal(hfw_atomic_open(&a[i], path[i], &err), 0);
		assert_int_equal(hfw_atomic_write(&a[i], path[i], strlen(path[i]), &err), 0);
	}
	/* f3's place becomes a FIFO meanwhile: refused alone. */
	assert_int_equal(mkfifo(path[3], 0600), 0);
	assert_int_equal(hfw_atomic_commit_many(a, 4, rets, errs), 1);
	assert_int_equal(rets[0], 0);
	assert_int_equal(rets[1], 0);
	assert_int_equal(rets[2], 1);
	assert_int_equal(rets[3], HFW_EIO);
	assert_non_null(strstr(errs[3].text, "it is now a FIFO"));
	for (i = 0; i < 4; i++)
		hfw_atomic_release(&a[i]);
	for (i = 0; i < 2; i++) {
		assert_int_equal(hfw_file_read(&data, &len, path[i], 8192, "out", &err), 0);
		assert_int_equal(len, strlen(path[i]));
		assert_memory_equal(data, path[i], len);
		free(data);
	}
	assert_int_equal(entries(), 3);	/* f0, f1 and the FIFO: no temporary left */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(read_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(atomic_write, setup, teardown),
		cmocka_unit_test_setup_teardown(signal_cleanup, setup, teardown),
		cmocka_unit_test_setup_teardown(output_destinations, setup, teardown),
		cmocka_unit_test_setup_teardown(commit_rechecks, setup, teardown),
		cmocka_unit_test_setup_teardown(commit_many, setup, teardown),
	};

	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
