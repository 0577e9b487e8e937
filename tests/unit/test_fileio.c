/* Unit tests: bounded reads, atomic writes, nothing half-written left behind. */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(read_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(atomic_write, setup, teardown),
		cmocka_unit_test_setup_teardown(signal_cleanup, setup, teardown),
	};

	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
