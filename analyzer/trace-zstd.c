/* SPDX-License-Identifier: MIT */
/*
 * Traces compressed with zstd (`perfshim --compress`, or `zstd FILE`), read as they are.
 * The reader indexes chunks and reads each thread's chunks by offset, so a compressed trace
 * is first decompressed, streaming, into an unnamed temporary file (TMPDIR, else /tmp): the
 * memory used is zstd's window and two buffers, whatever the trace's size, and the file
 * goes away with its descriptor. trace_open (trace-read.c) calls trace_zstd_inflate when the
 * file starts with a zstd frame's magic, whatever its name. docs/design.md, "Compressed
 * traces", says why the recorder itself never compresses.
 */
#define PR_FMT "zstd"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "analyzer/text.h"
#include "analyzer/trace-priv.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

#define IN_SIZE (1U << 20)		/* compressed bytes read at a time */

/* --decompress-limit: a trace larger than this is refused (a zstd bomb, a wrong file) */
static uint64_t decompress_limit = 32ULL << 30;

void trace_set_decompress_limit(uint64_t bytes)
{
	decompress_limit = bytes;
}

/*
 * trace_zstd_magic - @b (@n bytes, the file's start) begins a zstd frame: a compressed one
 * (28 b5 2f fd) or a skippable one (5X 2a 4d 18, as pzstd writes first).
 */
bool trace_zstd_magic(const uint8_t *b, size_t n)
{
	if (n < 4)
		return false;
	if (!memcmp(b, "\x28\xb5\x2f\xfd", 4))
		return true;
	return (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18;
}

static const char *tmp_dir(void)
{
	const char *d = getenv("TMPDIR");

	return d && *d ? d : "/tmp";
}

/*
 * An unnamed file to decompress into: O_TMPFILE, else a mkstemp name removed at once, else
 * (no writable temporary directory) a memfd. Return: the descriptor, or -1 (errno set).
 */
static int tmp_file(bool *memfd)
{
	const char *dir = tmp_dir();
	char *name;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (asprintf(&name, "%s/perfshim-analyze.XXXXXX", dir) >= 0) {
		fd = mkostemp(name, O_CLOEXEC);
		if (fd >= 0)
			unlink(name);
		free(name);
		if (fd >= 0)
			return fd;
	}
	*memfd = true;
	return memfd_create("perfshim-trace", MFD_CLOEXEC);
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct inflate {
	struct trace *t;
	ZSTD_DCtx *dctx;
	uint8_t *in, *out;
	size_t out_size;
	int fd;				/* the temporary file */
	bool memfd;			/* ... a memfd: no file system's free space to check */
	uint64_t total;			/* bytes of trace written to it */
	uint64_t in_off;		/* compressed bytes consumed */
};

/*
 * A first frame that says its size (zstd and `perfshim --compress` write it) is checked
 * against the limit and the temporary directory's free space before anything is written.
 */
static int check_size(struct inflate *z, size_t n)
{
	unsigned long long size = ZSTD_getFrameContentSize(z->in, n);
	struct statvfs vfs;
	char a[32], b[32];

	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR)
		return 0;
	if (decompress_limit && size > decompress_limit) {
		pr_error("%s: the trace in it is %s, over the limit of %s (--decompress-limit)",
			 z->t->path, fmt_bytes(a, sizeof(a), size),
			 fmt_bytes(b, sizeof(b), decompress_limit));
		return -1;
	}
	if (!z->memfd && fstatvfs(z->fd, &vfs) == 0 && vfs.f_frsize &&
	    size > (unsigned long long)vfs.f_bavail * vfs.f_frsize) {
		pr_error("%s: the trace in it is %s, more than the %s free in %s to decompress "
			 "it into (set TMPDIR)", z->t->path, fmt_bytes(a, sizeof(a), size),
			 fmt_bytes(b, sizeof(b), (uint64_t)vfs.f_bavail * vfs.f_frsize), tmp_dir());
		return -1;
	}
	return 0;
}

/* what is kept of a stream that stops early: a note in every report, or an error */
static int stop_early(struct inflate *z, const char *why)
{
	char a[32];

	if (!z->total) {
		pr_error("%s: %s, before any of the trace", z->t->path, why);
		return -1;
	}
	if (asprintf(&z->t->read_note, "%s after %s of the trace: the rest of the file "
		     "could not be decompressed", why, fmt_bytes(a, sizeof(a), z->total)) < 0)
		pr_fatal("out of memory");
	pr_warn("%s: %s", z->t->path, z->t->read_note);
	return 0;
}

/*
 * decompress - the whole input through z->dctx into z->fd. A damaged or cut stream keeps
 * what came before the damage (stop_early). Return: 0, or -1 after one error line.
 */
static int decompress(struct inflate *z)
{
	size_t ret = 0;
	char a[32];

	for (;;) {
		ssize_t n = read(z->t->fd, z->in, IN_SIZE);
		ZSTD_inBuffer in = { z->in, 0, 0 };

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_error("%s: %s", z->t->path, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		if (z->in_off == 0 && check_size(z, (size_t)n) < 0)
			return -1;
		in.size = (size_t)n;
		while (in.pos < in.size) {
			ZSTD_outBuffer out = { z->out, z->out_size, 0 };

			ret = ZSTD_decompressStream(z->dctx, &out, &in);
			if (decompress_limit && z->total + out.pos > decompress_limit) {
				pr_error("%s: the trace in it is over the limit of %s "
					 "(--decompress-limit)", z->t->path,
					 fmt_bytes(a, sizeof(a), decompress_limit));
				return -1;
			}
			/* what came before an error is kept (the chunks' checksums judge it) */
			if (write_all(z->fd, z->out, out.pos) < 0) {
				pr_error("%s: cannot decompress into %s: %s (after %s; set TMPDIR)",
					 z->t->path, tmp_dir(), strerror(errno),
					 fmt_bytes(a, sizeof(a), z->total));
				return -1;
			}
			z->total += out.pos;
			/* zstd holds a frame's last block back until its checksum holds */
			if (ZSTD_isError(ret) &&
			    ZSTD_getErrorCode(ret) == ZSTD_error_checksum_wrong)
				return stop_early(z, "the compressed data does not match its "
						  "checksum (the frame's last block is lost)");
			if (ZSTD_isError(ret) &&
			    ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge) {
				pr_error("%s: its zstd window needs more memory than 128 MiB "
					 "(compressed with --long?): decompress it with zstd -d "
					 "--long=31", z->t->path);
				return -1;
			}
			if (ZSTD_isError(ret)) {
				char why[160];

				snprintf(why, sizeof(why), "damaged zstd data (%s) at compressed "
					 "byte %llu", ZSTD_getErrorName(ret),
					 (unsigned long long)(z->in_off + in.pos));
				return stop_early(z, why);
			}
		}
		z->in_off += (uint64_t)n;
	}
	/* ret is 0 exactly when the last frame was whole (and its checksum held) */
	if (ret != 0)
		return stop_early(z, "the compressed file is cut short");
	return 0;
}

/**
 * trace_zstd_inflate - decompress @t's file (it starts with zstd's magic) into an unnamed
 * temporary file, which becomes @t->fd and @t->file_size: the reader then sees the trace
 * as written. A stream cut short or damaged keeps the trace before the damage, with a
 * warning here and @t->read_note in every report.
 * Return: 0, or -1 after one error line (nothing intact, over --decompress-limit, no room).
 */
int trace_zstd_inflate(struct trace *t)
{
	struct inflate z = { .t = t, .fd = -1 };
	int rc = -1;

	z.dctx = ZSTD_createDCtx();
	z.out_size = ZSTD_DStreamOutSize();
	z.in = malloc(IN_SIZE);
	z.out = malloc(z.out_size);
	if (!z.dctx || !z.in || !z.out)
		pr_fatal("out of memory");
	z.fd = tmp_file(&z.memfd);
	if (z.fd < 0) {
		pr_error("%s: cannot create a temporary file in %s to decompress it into: %s",
			 t->path, tmp_dir(), strerror(errno));
		goto out;
	}
	if (decompress(&z) < 0)
		goto out;
	close(t->fd);
	t->fd = z.fd;
	t->file_size = z.total;
	z.fd = -1;
	pr_dbg(1, "%s: %llu compressed bytes, %llu of trace", t->path,
	       (unsigned long long)z.in_off, (unsigned long long)z.total);
	rc = 0;
out:
	if (z.fd >= 0)
		close(z.fd);
	ZSTD_freeDCtx(z.dctx);
	free(z.in);
	free(z.out);
	return rc;
}
