// envchild MODE: a child that gets an explicit environment without LD_PRELOAD ({"ENVCHILD=1"}):
// "spawn" (posix_spawn of "kid 7"), "execve" (execve of "kid 9" over this image), "fork" (a
// fork child runs kid 5). "kid N" calls kidwork() N times, prints "kid N" and exits 20 + N.
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int sink;

static void kidwork(int i)
{
	sink += i;
}

static int kid(int n)
{
	int i;

	for (i = 0; i < n; i++)
		kidwork(i);
	printf("kid %d\n", n);
	return 20 + n;
}

static int wait_for(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	char *env[] = { (char *)"ENVCHILD=1", NULL };
	const char *how = argc > 1 ? argv[1] : "spawn";
	char self[4096];
	ssize_t n;
	pid_t pid;
	int r;

	if (argc > 2 && !strcmp(argv[1], "kid"))
		return kid(atoi(argv[2]));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = '\0';
	fflush(stdout);
	if (!strcmp(how, "spawn")) {
		char *args[] = { argv[0], (char *)"kid", (char *)"7", NULL };

		r = posix_spawn(&pid, self, NULL, NULL, args, env);
		printf("posix_spawn: %d, kid exited %d\n", r, r ? -1 : wait_for(pid));
		return 0;
	}
	if (!strcmp(how, "execve")) {
		char *args[] = { argv[0], (char *)"kid", (char *)"9", NULL };

		execve(self, args, env);
		perror("execve");
		return 1;
	}
	if (!strcmp(how, "fork")) {
		pid = fork();
		if (pid == 0) {
			fflush(stdout);
			exit(kid(5));
		}
		printf("fork: kid exited %d\n", wait_for(pid));
		return 0;
	}
	return 2;
}
