/* SPDX-License-Identifier: MIT */
/*
 * cputime - run a command and write its CPU time (user+sys, all waited-for descendants, in
 * seconds with microsecond resolution), peak RSS (KiB) and wall time (seconds, for the
 * parallel analysis row) to a file: /usr/bin/time's %U+%S are rounded to 10 ms, too coarse
 * for runs of a few hundred ms. Used by bench/run.sh.
 *
 *	cputime FILE [VAR=VALUE...] CMD [ARGS...]
 *		writes "SECONDS MAXRSS_KIB WALL_SECONDS" to FILE, exits as CMD did. VAR=VALUE
 *		(as env(1) takes them) go into CMD's environment only: through env(1) a
 *		preloaded variant would pay one exec more than the plain one (about 0.8 ms of
 *		CPU here, docs/sampling.md "Cost").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *f;
	pid_t pid;
	int status, cmd = 2;

	while (cmd < argc && strchr(argv[cmd], '=') && argv[cmd][0] != '=')
		cmd++;
	if (cmd >= argc) {
		fputs("usage: cputime FILE [VAR=VALUE...] CMD [ARGS...]\n", stderr);
		return 125;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("cputime: fork");
		return 125;
	}
	if (pid == 0) {
		for (int i = 2; i < cmd; i++)
			putenv(argv[i]);
		execvp(argv[cmd], argv + cmd);
		fprintf(stderr, "cputime: %s: %s\n", argv[cmd], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("cputime: waitpid");
		return 125;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* RUSAGE_CHILDREN: the command and every descendant it waited for (uftrace's and
	 * heaptrack's helper processes included). */
	getrusage(RUSAGE_CHILDREN, &ru);
	f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 125;
	}
	fprintf(f, "%.6f %ld %.6f\n",
		ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
		ru.ru_maxrss, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	fclose(f);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
