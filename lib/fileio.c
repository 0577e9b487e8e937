/* fileio.c - bounded reads and atomic writes (see fileio.h). */
#define _GNU_SOURCE	/* O_TMPFILE */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hfw_file_read(uint8_t **out, size_t *len, const char *path, size_t max,
		  const char *what, struct hfw_error *err)
{
	int fd = -1, ret = 0;
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	struct stat st;
	const char *shown = strcmp(path, "-") == 0 ? "(standard input)" : path;

	*out = NULL;
	*len = 0;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		ret = hfw_error_set(err, HFW_EIO, "cannot open %s '%s': %s",
				    what, path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			ret = hfw_error_set(err, HFW_EIO, "cannot read %s '%s': is a directory",
					    what, shown);
			goto out;
		}
		if (S_ISREG(st.st_mode)) {
			if ((uintmax_t)st.st_size > max) {
				ret = hfw_error_set(err, HFW_ELIMIT,
						    "%s '%s' is %jd bytes, more than the limit of %zu",
						    what, shown, (intmax_t)st.st_size, max);
				goto out;
			}
			cap = (size_t)st.st_size + 1;
		}
	}
	if (cap < 4096)
		cap = 4096;
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			size_t ncap = cap * 2;
			uint8_t *nb;

			if (ncap > max + 2)
				ncap = max + 2;
			if (ncap <= n + 1) {
				ret = hfw_error_set(err, HFW_ELIMIT,
						    "%s '%s' is more than the limit of %zu bytes",
						    what, shown, max);
				goto out;
			}
			if (!(nb = realloc(buf, ncap))) {
				ret = hfw_error_oom(err);
				goto out;
			}
			buf = nb;
			cap = ncap;
		} else if (!buf && !(buf = malloc(cap))) {
			ret = hfw_error_oom(err);
			goto out;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = hfw_error_set(err, HFW_EIO, "cannot read %s '%s': %s",
					    what, shown, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			ret = hfw_error_set(err, HFW_ELIMIT,
					    "%s '%s' is more than the limit of %zu bytes",
					    what, shown, max);
			goto out;
		}
	}
	if (!buf && !(buf = malloc(1))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	if (fd > STDIN_FILENO)
		close(fd);
	free(buf);
	return ret;
}

/*
 * Pending temporary files, for removal from a signal handler.  Fixed size
 * and written before the file exists, so the handler never sees a torn
 * entry; hanfw holds at most a handful at once.
 */
#define PENDING_MAX 16
static char *volatile pending[PENDING_MAX];

/* A free slot claimed atomically: hanfw sign opens its outputs on several threads. */
static int pending_add(char *tmp)
{
	int i;

	for (i = 0; i < PENDING_MAX; i++) {
		char *none = NULL;

		if (__atomic_compare_exchange_n(&pending[i], &none, tmp, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return i;
	}
	return -1;
}

static pthread_once_t umask_once = PTHREAD_ONCE_INIT;
static mode_t umask_now;

/*
 * The process's umask, read without changing it (/proc/self/status,
 * Linux 4.7 on): umask() can only be read by setting it, and a file
 * another thread created in between would get mode 0666.  Read once:
 * hanfw never changes its umask.
 */
static void read_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	unsigned long m;

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Umask: %lo", &m) == 1) {
				umask_now = (mode_t)m;
				fclose(f);
				return;
			}
		fclose(f);
	}
	umask_now = umask(0);	/* no /proc: the old way (a file created at this instant by another thread would be 0666) */
	umask(umask_now);
}

static mode_t current_umask(void)
{
	pthread_once(&umask_once, read_umask);
	return umask_now;
}

void hfw_atomic_cleanup_signal_safe(void)
{
	int i;

	for (i = 0; i < PENDING_MAX; i++)
		if (pending[i])
			unlink(pending[i]);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Is a resolved (absolute, symlink-free) path /proc, /sys or /dev, or under one? */
static const char *system_tree(const char *real)
{
	static const char *const trees[] = { "/proc", "/sys", "/dev" };
	size_t i, n;

	for (i = 0; i < sizeof(trees) / sizeof(trees[0]); i++) {
		n = strlen(trees[i]);
		if (strncmp(real, trees[i], n) == 0 && (real[n] == '\0' || real[n] == '/'))
			return trees[i];
	}
	return NULL;
}

static const char *kind_of(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
	       : S_ISSOCK(m) ? "a socket" : S_ISDIR(m) ? "a directory" : S_ISLNK(m) ? "a symlink"
	       : "not a regular file";
}

/* Drop the last component of an absolute path held in res ("" is "/"). */
static void drop_last(char *res)
{
	char *slash = strrchr(res, '/');

	if (slash)
		*slash = '\0';
}

#define HOPS_MAX 40

/*
 * Resolve path as the kernel would, one component at a time, following
 * symlinks by readlink rather than realpath, so that every place the
 * resolution passes through is seen: a /proc magic link such as
 * /proc/self/fd/1 cannot carry it anywhere unseen.  *tree is set to the
 * first of /proc, /sys or /dev it enters (and resolution stops there).
 * *out (caller frees) is the resolved path and *st its lstat, with
 * st_mode 0 when only the last component is missing.  0 or -errno.
 */
static int resolve(char **out, struct stat *st, const char **tree, const char *path)
{
	char *res = NULL, *rest = NULL, *p, text[PATH_MAX];
	size_t n, rlen;
	int hops = 0, ret = 0;

	*out = NULL;
	*tree = NULL;
	memset(st, 0, sizeof(*st));
	if (!(res = malloc(PATH_MAX)) || !(rest = strdup(path))) {
		ret = -ENOMEM;
		goto out;
	}
	res[0] = '\0';
	if (path[0] != '/' && !getcwd(res, PATH_MAX)) {
		ret = -errno;
		goto out;
	}
	if (strcmp(res, "/") == 0)
		res[0] = '\0';
	p = rest;
	for (;;) {
		char *comp, *next;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		for (n = 0; comp[n] && comp[n] != '/'; n++)
			;
		p = comp + n;
		if (n == 1 && comp[0] == '.')
			continue;
		if (n == 2 && comp[0] == '.' && comp[1] == '.') {
			drop_last(res);
			continue;
		}
		rlen = strlen(res);
		if (rlen + 1 + n >= PATH_MAX) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		res[rlen] = '/';
		memcpy(res + rlen + 1, comp, n);
		res[rlen + 1 + n] = '\0';
		if ((*tree = system_tree(res)))
			goto out;
		while (*p == '/')
			p++;
		if (lstat(res, st) != 0) {
			ret = -errno;
			memset(st, 0, sizeof(*st));
			if (ret == -ENOENT && !*p)
				ret = 0;	/* a new name */
			goto out;
		}
		if (S_ISLNK(st->st_mode)) {
			ssize_t l;

			if (++hops > HOPS_MAX) {
				ret = -ELOOP;
				goto out;
			}
			if ((l = readlink(res, text, sizeof(text) - 1)) < 0) {
				ret = -errno;
				goto out;
			}
			text[l] = '\0';
			/* The link's text, then what was still to resolve. */
			if (!(next = malloc((size_t)l + strlen(p) + 2))) {
				ret = -ENOMEM;
				goto out;
			}
			snprintf(next, (size_t)l + strlen(p) + 2, "%s/%s", text, p);
			free(rest);
			rest = p = next;
			if (text[0] == '/')
				res[0] = '\0';
			else
				drop_last(res);
			continue;
		}
		if (*p && !S_ISDIR(st->st_mode)) {
			ret = -ENOTDIR;
			goto out;
		}
	}
	if (!res[0]) {
		res[0] = '/';
		res[1] = '\0';
	}
	if (lstat(res, st) != 0)
		ret = -errno;
out:
	if (ret == 0 && !*tree) {
		*out = res;
		res = NULL;
	}
	free(res);
	free(rest);
	return ret;
}

/*
 * The checks hfw_output_check and hfw_output_dir_check share.  want_dir:
 * what may exist there is a directory, else a regular file.
 */
static int check_output(char **target, const char *path, int want_dir, struct hfw_error *err)
{
	const char *want = want_dir ? "a directory" : "a regular file", *tree = NULL;
	char *real = NULL, *dir = NULL;
	struct stat st, lst;
	int is_link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode), r, ret = 0;

	if (target)
		*target = NULL;
	r = resolve(&real, &st, &tree, path);
	if (tree) {
		ret = hfw_error_set(err, HFW_EIO, "refusing to write '%s': %s %s, where hanfw writes nothing", path,
				    is_link ? "it is a symlink into" : "it is under", tree);
		goto out;
	}
	if (r == -ENOMEM) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if (r == -ENOENT || r == -ENOTDIR) {
		dir = dir_of(path);
		ret = hfw_error_set(err, HFW_EIO, "cannot create a file in '%s': %s", dir ? dir : path, strerror(-r));
		goto out;
	}
	if (r < 0) {
		ret = hfw_error_set(err, HFW_EIO, "cannot use '%s' as the output %s: %s", path,
				    want_dir ? "directory" : "file", strerror(-r));
		goto out;
	}
	if (st.st_mode == 0 && is_link) {
		ret = hfw_error_set(err, HFW_EIO, "refusing to write '%s': it is a symlink that leads to nothing", path);
		goto out;
	}
	if (st.st_mode != 0 && (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) {
		ret = hfw_error_set(err, HFW_EIO, "refusing to write '%s': it is %s%s, not %s", path,
				    is_link ? "a symlink to " : "", kind_of(st.st_mode), want);
		goto out;
	}
	/* A symlink is written through: the file it names is replaced, the link kept. */
	if (target) {
		if (is_link) {
			*target = real;
			real = NULL;
		} else if (!(*target = strdup(path))) {
			ret = hfw_error_oom(err);
		}
	}
out:
	free(real);
	free(dir);
	return ret;
}

int hfw_output_check(char **target, const char *path, struct hfw_error *err)
{
	return check_output(target, path, 0, err);
}

int hfw_output_dir_check(const char *dir, struct hfw_error *err)
{
	return check_output(NULL, dir, 1, err);
}

/*
 * Where it can, the file is created with O_TMPFILE: it has no name until it
 * is complete, so even SIGKILL leaves nothing behind.  It is linked under a
 * temporary name only for the instant before the rename.  Elsewhere a
 * hidden mkstemp file is used and removed on every path but SIGKILL.
 */
static int atomic_open(struct hfw_atomic *a, const char *path, int private, struct hfw_error *err)
{
	const char *base = strrchr(path, '/');
	char *dir = NULL;
	size_t need;
	mode_t mask;
	int ret = 0;

	base = base ? base + 1 : path;
	if (!*base) {
		ret = hfw_error_set(err, HFW_EIO, "cannot write '%s': not a file name", path);
		goto out;
	}
	/* Before anything is created: what is there, and where a symlink leads. */
	if ((ret = hfw_output_check(&a->path, path, err)) < 0)
		goto out;
	path = a->path;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!(dir = dir_of(path))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	need = strlen(dir) + strlen(base) + sizeof("/..tmp.XXXXXX") + 24;
	if (!(a->tmp = malloc(need))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	mask = current_umask();
#ifdef O_TMPFILE
	a->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, private ? 0600 : 0666 & ~mask);
	if (a->fd >= 0) {
		/* Named at commit time; no name to clean up until then. */
		snprintf(a->tmp, need, "%s/.%s.tmp.%ld", dir, base, (long)getpid());
		a->unnamed = 1;
		goto out;
	}
	if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == EROFS) {
		ret = hfw_error_set(err, HFW_EIO, "cannot create a file in '%s': %s", dir, strerror(errno));
		goto out;
	}
#endif
	snprintf(a->tmp, need, "%s/.%s.tmp.XXXXXX", dir, base);
	a->slot = pending_add(a->tmp);
	if ((a->fd = mkstemp(a->tmp)) < 0) {
		ret = hfw_error_set(err, HFW_EIO, "cannot create a file in '%s': %s",
				    dir, strerror(errno));
		if (a->slot >= 0)
			pending[a->slot] = NULL;
		a->slot = -1;
		free(a->tmp);
		a->tmp = NULL;
		goto out;
	}
	/* mkstemp makes 0600; give anything but a secret the usual umask-based mode. */
	if (!private && fchmod(a->fd, 0666 & ~mask) != 0) {
		ret = hfw_error_set(err, HFW_EIO, "cannot set mode of '%s': %s",
				    a->tmp, strerror(errno));
		goto out;
	}
out:
	free(dir);
	if (ret < 0)
		hfw_atomic_release(a);
	return ret;
}

/* Give an O_TMPFILE file its temporary name, just before the rename. */
static int name_unnamed(struct hfw_atomic *a, struct hfw_error *err)
{
	char proc[64];
	size_t n = strlen(a->tmp);
	int i;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a->fd);
	for (i = 0; i < 100; i++) {
		snprintf(a->tmp + n, 24, ".%d", i);
		a->slot = pending_add(a->tmp);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, a->tmp, AT_SYMLINK_FOLLOW) == 0) {
			a->unnamed = 0;
			return 0;
		}
		if (a->slot >= 0)
			pending[a->slot] = NULL;
		a->slot = -1;
		if (errno != EEXIST)
			break;
		a->tmp[n] = '\0';
	}
	return hfw_error_set(err, HFW_EIO, "cannot name '%s': %s", a->tmp, strerror(errno));
}

int hfw_atomic_open(struct hfw_atomic *a, const char *path, struct hfw_error *err)
{
	return atomic_open(a, path, 0, err);
}

int hfw_atomic_open_private(struct hfw_atomic *a, const char *path, struct hfw_error *err)
{
	return atomic_open(a, path, 1, err);
}

int hfw_atomic_write(struct hfw_atomic *a, const void *data, size_t len,
		     struct hfw_error *err)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t w = write(a->fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return hfw_error_set(err, HFW_EIO, "cannot write '%s': %s",
					     a->path, strerror(errno));
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Put a's file in place; with sync, its data first and its directory entry after are synced. */
static int commit(struct hfw_atomic *a, int sync, struct hfw_error *err)
{
	struct stat st;
	char *dir = NULL;
	int dfd, ret = 0;

	if (sync && fsync(a->fd) != 0) {
		ret = hfw_error_set(err, HFW_EIO, "cannot write '%s': %s",
				    a->path, strerror(errno));
		goto out;
	}
	if (a->unnamed) {
		char proc[64];

		/* A new file: link it straight to its name, with no window at all. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", a->fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, a->path, AT_SYMLINK_FOLLOW) == 0) {
			a->unnamed = 0;
			free(a->tmp);
			a->tmp = NULL;
			close(a->fd);
			a->fd = -1;
			goto synced;
		}
		/* Replacing a file: name it, then rename over the old one. */
		if ((ret = name_unnamed(a, err)) < 0)
			goto out;
	}
	if (close(a->fd) != 0) {
		a->fd = -1;
		ret = hfw_error_set(err, HFW_EIO, "cannot write '%s': %s",
				    a->path, strerror(errno));
		goto out;
	}
	a->fd = -1;
	/* Whatever took the name meanwhile must still be a regular file to be replaced. */
	if (lstat(a->path, &st) == 0 && !S_ISREG(st.st_mode)) {
		ret = hfw_error_set(err, HFW_EIO, "refusing to write '%s': it is now %s, not a regular file",
				    a->path, kind_of(st.st_mode));
		goto out;
	}
	if (rename(a->tmp, a->path) != 0) {
		ret = hfw_error_set(err, HFW_EIO, "cannot rename into '%s': %s",
				    a->path, strerror(errno));
		goto out;
	}
	if (a->slot >= 0)
		pending[a->slot] = NULL;
	a->slot = -1;
	free(a->tmp);
	a->tmp = NULL;
synced:
	/* Make the new name itself durable; failure here is not worth failing for. */
	if (sync && (dir = dir_of(a->path)) && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	free(dir);
	return ret;
}

int hfw_atomic_commit(struct hfw_atomic *a, struct hfw_error *err)
{
	return commit(a, 1, err);
}

#define SYNC_FS_MAX 16

/*
 * One descriptor (a dup) on each file system the open files of a[0..n) are
 * on: how many, or 0 if there are more than SYNC_FS_MAX (or on error).
 */
static size_t file_systems(const struct hfw_atomic *a, size_t n, int fds[SYNC_FS_MAX])
{
	dev_t devs[SYNC_FS_MAX];
	size_t i, j, ndev = 0;
	struct stat st;

	for (i = 0; i < n; i++) {
		if (a[i].fd < 0)
			continue;
		if (fstat(a[i].fd, &st) != 0)
			goto fail;
		for (j = 0; j < ndev && devs[j] != st.st_dev; j++)
			;
		if (j < ndev)
			continue;
		if (ndev == SYNC_FS_MAX || (fds[ndev] = dup(a[i].fd)) < 0)
			goto fail;
		devs[ndev++] = st.st_dev;
	}
	return ndev;
fail:
	while (ndev > 0)
		close(fds[--ndev]);
	return 0;
}

/* syncfs on each; 1 if every one succeeded. */
static int sync_all(const int *fds, size_t n)
{
	size_t i;
	int ok = n > 0;

	for (i = 0; i < n; i++)
		if (syncfs(fds[i]) != 0)
			ok = 0;
	return ok;
}

size_t hfw_atomic_commit_many(struct hfw_atomic *a, size_t n, int *rets, struct hfw_error *errs)
{
	int fds[SYNC_FS_MAX] = { -1 };
	size_t i, nfs, failed = 0;
	int batched;

	/*
	 * One syncfs flushes every file's data (and anything else pending on
	 * that file system) with one cache flush, where an fsync each costs a
	 * flush each: the difference between milliseconds and seconds for
	 * 1,000 files.  A second one makes the new names durable.  Where
	 * syncfs cannot be used, each file is synced alone.
	 */
	for (i = 0, nfs = 0; i < n; i++)
		nfs += a[i].fd >= 0;
	/* One file alone: its own fsync costs less than flushing its file system. */
	nfs = nfs > 1 ? file_systems(a, n, fds) : 0;
	batched = sync_all(fds, nfs);
	for (i = 0; i < n; i++) {
		if (a[i].fd < 0)
			continue;
		if ((rets[i] = commit(&a[i], !batched, &errs[i])) < 0)
			failed++;
	}
	if (batched)
		(void)sync_all(fds, nfs);
	for (i = 0; i < nfs; i++)
		close(fds[i]);
	return failed;
}

void hfw_atomic_release(struct hfw_atomic *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->tmp && !a->unnamed)
		unlink(a->tmp);
	a->unnamed = 0;
	if (a->slot >= 0)
		pending[a->slot] = NULL;
	a->slot = -1;
	free(a->tmp);
	a->tmp = NULL;
	free(a->path);
	a->path = NULL;
}

int hfw_file_write_atomic(const char *path, const void *data, size_t len,
			  struct hfw_error *err)
{
	struct hfw_atomic a = HFW_ATOMIC_INIT;
	int ret;

	if ((ret = hfw_atomic_open(&a, path, err)) < 0 ||
	    (ret = hfw_atomic_write(&a, data, len, err)) < 0 ||
	    (ret = hfw_atomic_commit(&a, err)) < 0)
		goto out;
out:
	hfw_atomic_release(&a);
	return ret;
}

const char *hfw_path_in(char *buf, size_t size, const char *dir, const char *rel)
{
	if (rel[0] == '/')
		snprintf(buf, size, "%s", rel);
	else
		snprintf(buf, size, "%s/%s", dir, rel);
	return buf;
}
