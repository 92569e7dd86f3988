/* SPDX-License-Identifier: MIT */
/*
 * perfshim --compress: once the program has ended, each trace it left becomes FILE.zst.
 * The recorder itself never compresses: its chunk writes stay one writev of raw records,
 * with no compressor's time or memory inside the program (docs/design.md, "Compressed
 * traces"). The analyzer reads FILE.zst as it reads FILE (analyzer/trace-zstd.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "runner/runner.h"

#define LEVEL 3				/* zstd's default: 5-8x on traces, several 100 MB/s */
#define IN_SIZE (1U << 20)

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* a compression context: level 3, the content size in the frame, a checksum, all CPUs */
static ZSTD_CCtx *new_cctx(uint64_t size)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!c)
		return NULL;
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, LEVEL);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	/* a libzstd built without threads refuses this: it then compresses in one */
	if (cpus > 1)
		ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, (int)(cpus < 8 ? cpus : 8));
	ZSTD_CCtx_setPledgedSrcSize(c, size);
	return c;
}

/* stream @in into @out through @c. Return: 0, or -1 with *@why set (errno or zstd's). */
static int stream(ZSTD_CCtx *c, int in, int out, const char **why)
{
	size_t osize = ZSTD_CStreamOutSize();
	char *ibuf = malloc(IN_SIZE), *obuf = malloc(osize);
	int rc = -1;

	*why = "out of memory";
	if (!ibuf || !obuf)
		goto out;
	for (;;) {
		ssize_t n = read(in, ibuf, IN_SIZE);
		ZSTD_EndDirective mode = n == 0 ? ZSTD_e_end : ZSTD_e_continue;
		ZSTD_inBuffer ib = { ibuf, n > 0 ? (size_t)n : 0, 0 };
		size_t left;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = strerror(errno);
			goto out;
		}
		do {
			ZSTD_outBuffer ob = { obuf, osize, 0 };

			left = ZSTD_compressStream2(c, &ob, &ib, mode);
			if (ZSTD_isError(left)) {
				*why = ZSTD_getErrorName(left);
				goto out;
			}
			if (write_all(out, obuf, ob.pos) < 0) {
				*why = strerror(errno);
				goto out;
			}
		} while (mode == ZSTD_e_end ? left != 0 : ib.pos < ib.size);
		if (mode == ZSTD_e_end)
			break;
	}
	*why = NULL;
	rc = 0;
out:
	free(ibuf);
	free(obuf);
	return rc;
}

/*
 * compress_trace - @name (in directory @dirfd) becomes @name.zst: written as @name.zst.part,
 * synced, renamed (never over an existing file), and only then is @name removed. On any
 * failure the raw trace stays as it was and the part is removed.
 * Return: 0 with *@zsize set, or -1 after one line on stderr.
 */
int compress_trace(int dirfd, const char *name, uint64_t *zsize)
{
	char part[300], zst[300];
	const char *why = NULL;
	ZSTD_CCtx *c = NULL;
	struct stat st;
	int in, out = -1, rc = -1;

	snprintf(zst, sizeof(zst), "%s.zst", name);
	snprintf(part, sizeof(part), "%s.zst.part", name);
	in = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		why = strerror(errno);
		goto out;
	}
	out = openat(dirfd, part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0666);
	if (out < 0) {
		why = strerror(errno);
		goto out;
	}
	c = new_cctx((uint64_t)st.st_size);
	if (!c) {
		why = "out of memory";
		goto fail;
	}
	if (stream(c, in, out, &why) < 0)
		goto fail;
	if (fsync(out) < 0 || fstat(out, &st) < 0) {
		why = strerror(errno);
		goto fail;
	}
	/* RENAME_NOREPLACE: a FILE.zst already there is not the run's and stays */
	if (renameat2(dirfd, part, dirfd, zst, RENAME_NOREPLACE) < 0) {
		why = errno == EEXIST ? "a file of that name is already there" : strerror(errno);
		goto fail;
	}
	if (unlinkat(dirfd, name, 0) < 0)
		fprintf(stderr, "%s: %s: cannot remove it after compressing: %s\n", progname, name,
			strerror(errno));
	*zsize = (uint64_t)st.st_size;
	rc = 0;
	goto out;
fail:
	unlinkat(dirfd, part, 0);
out:
	if (why)
		fprintf(stderr, "%s: %s: not compressed (%s): %s; the trace is left as it was\n",
			progname, name, zst, why);
	ZSTD_freeCCtx(c);
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	return rc;
}
