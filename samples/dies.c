// Ends the way argv[1] says after argv[2] calls of work() (default 100000), each with a
// malloc of 32 bytes, all freed but the last one: "kill" (SIGKILL to itself), "abort",
// "segv", "exit_group" (the raw system call, unseen by any wrapper) or "return" (status 0).
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *keep;

__attribute__((noinline)) static void work(long i)
{
	void *p = malloc(32);

	free(keep);		/* free(NULL) the first time */
	keep = p;		/* the last one stays live */
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "return";
	long n = argc > 2 ? atol(argv[2]) : 100000, i;

	for (i = 0; i < n; i++)
		work(i);
	fflush(stdout);
	if (!strcmp(how, "kill"))
		kill(getpid(), SIGKILL);
	else if (!strcmp(how, "abort"))
		abort();
	else if (!strcmp(how, "segv"))
		*(volatile int *)0 = 1;
	else if (!strcmp(how, "exit_group"))
		syscall(SYS_exit_group, 3);
	return 0;
}
