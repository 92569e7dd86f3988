/* SPDX-License-Identifier: MIT */
/*
 * The shim's own descriptors, out of the program's way: the trace file's and libunwind's
 * pipe move to the top of the descriptor range (the program's open() and pipe() then return
 * the numbers they would without the shim), and the pipe2 interposer that catches
 * libunwind's pipe.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "preload/interpose.h"
#include "preload/tracefile.h"

#define FD_TOP_MAX 4096			/* the top of the range, at most */

/*
 * ps_fd_move_high - move @fd to @below descriptors under the top of the range (or above,
 * the first free one), close-on-exec; left where it is when the range is too small (2 *
 * @below or less) or no descriptor is free up there. Return: the descriptor to use.
 */
int ps_fd_move_high(int fd, int below)
{
	struct rlimit rl;
	int top, hi;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur <= (rlim_t)(2 * below))
		return fd;
	top = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_TOP_MAX ? FD_TOP_MAX
									 : (int)rl.rlim_cur;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, top - below);
	if (hi < 0)
		return fd;
	close(fd);
	return hi;
}

/*
 * libunwind opens a pipe when it sets itself up, and again when a write to it fails (it
 * validates memory by writing through it). At the lowest free descriptors, that pipe would
 * take 3 and 4, where the program expects its own first files, and a program that closes
 * "all other" descriptors and opens new ones would see libunwind close them under it. So a
 * pipe made from inside the shim (guard at PS_GUARD_INTERNAL or above: libunwind runs only
 * there) moves to the top of the descriptor range, next to the trace descriptor; the
 * program's own pipes pass through untouched.
 */
PS_EXPORT int pipe2(int fds[2], int flags)
{
	int (*real)(int[2], int) = ps_real(pipe2);
	int r, saved;

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	r = real(fds, flags);
	if (r == 0 && ps_self.guard >= PS_GUARD_INTERNAL && (flags & O_CLOEXEC)) {
		saved = errno;
		fds[0] = ps_fd_move_high(fds[0], PS_FD_PIPE_BELOW_TOP);
		fds[1] = ps_fd_move_high(fds[1], PS_FD_PIPE_BELOW_TOP);
		errno = saved;
	}
	return r;
}
