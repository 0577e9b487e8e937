/*
 * fileio.h - bounded reads and all-or-nothing writes.
 *
 * Nothing hanfw writes is ever left half-written: output goes to a hidden
 * temporary file in the destination's directory, is flushed to disk, and is
 * renamed over the destination only when complete.  Temporary files still
 * pending when a fatal signal arrives can be removed with
 * hfw_atomic_cleanup_signal_safe(), which cmd/ calls from its handler.
 */
#ifndef HFW_FILEIO_H
#define HFW_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * Read all of path ("-" = standard input) into a new buffer (caller frees;
 * a NUL is appended but not counted in *len).  More than max bytes is
 * HFW_ELIMIT; a missing or unreadable file is HFW_EIO.  what names the
 * file in messages ("manufacturer image").
 */
int hfw_file_read(uint8_t **out, size_t *len, const char *path, size_t max,
		  const char *what, struct hfw_error *err);

struct hfw_atomic {
	char *path;	/* destination */
	char *tmp;	/* temporary file, NULL once committed or aborted */
	int fd;
	int slot;	/* index in the signal-cleanup registry, -1 if none */
	int unnamed;	/* O_TMPFILE: no directory entry yet */
};

#define HFW_ATOMIC_INIT { NULL, NULL, -1, -1, 0 }

/*
 * Where output may go (every -o, and every file hanfw writes): a new name,
 * or an existing regular file, which is replaced.  Never a FIFO, device,
 * socket or directory, and nothing under /proc, /sys or /dev.  A symlink is
 * followed only to a regular file outside those: that file is replaced and
 * the link kept.  *target (caller frees) receives the path to write: path,
 * or where its symlink leads.  HFW_EIO, naming the path and the reason,
 * otherwise; nothing is created either way.
 */
int hfw_output_check(char **target, const char *path, struct hfw_error *err);

/* The same for an output directory: an existing directory, or a new name. */
int hfw_output_dir_check(const char *dir, struct hfw_error *err);

/*
 * Create the temporary file for path, after hfw_output_check (so a->path
 * may be where path's symlink leads).  HFW_EIO on failure.
 */
int hfw_atomic_open(struct hfw_atomic *a, const char *path, struct hfw_error *err);

/* The same, for secrets: the file stays mode 0600 whatever the umask. */
int hfw_atomic_open_private(struct hfw_atomic *a, const char *path, struct hfw_error *err);

int hfw_atomic_write(struct hfw_atomic *a, const void *data, size_t len,
		     struct hfw_error *err) HFW_MUST_CHECK;

/*
 * fsync, close and rename into place; the directory entry is synced too.
 * Refused if the destination has meanwhile become anything but a regular file.
 */
int hfw_atomic_commit(struct hfw_atomic *a, struct hfw_error *err) HFW_MUST_CHECK;

/*
 * Commit many at once (hanfw sign of many files): each a[i] still open is
 * put in place as hfw_atomic_commit does, all-or-nothing per file, but
 * their data and new names are made durable together (two syncfs for the
 * batch on each file system they are on; each file alone where that
 * fails) instead of two syncs per file.  rets[i] and errs[i] receive each
 * file's result (untouched for a[i] not open); returns how many failed.
 * Release each a[i] afterwards.
 */
size_t hfw_atomic_commit_many(struct hfw_atomic *a, size_t n, int *rets, struct hfw_error *errs);

/* Remove the temporary file if still there and free a's contents (NULL-safe, idempotent). */
void hfw_atomic_release(struct hfw_atomic *a);

/* rel inside dir ("dir/rel"), or rel itself when absolute; truncated to size.  Returns buf. */
const char *hfw_path_in(char *buf, size_t size, const char *dir, const char *rel);

/* Unlink every pending temporary file; async-signal-safe. */
void hfw_atomic_cleanup_signal_safe(void);

/* Write a whole buffer to path atomically. */
int hfw_file_write_atomic(const char *path, const void *data, size_t len,
			  struct hfw_error *err);

#endif
