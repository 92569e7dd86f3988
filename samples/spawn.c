// posix_spawn, posix_spawnp, system() and popen(): each child runs this program as "kid N",
// which allocates N blocks of 1000+N bytes and exits 10+N; the parent allocates one of 999.
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int kid(int n)
{
	void *volatile p;	/* volatile: -O2 may not drop a malloc/free pair */
	int i;

	for (i = 0; i < n; i++) {
		p = malloc(1000 + n);
		free(p);
	}
	return 10 + n;
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
	char self[4096], cmd[4200];
	char *kid1[] = { argv[0], (char *)"kid", (char *)"1", NULL };
	char *kid2[] = { argv[0], (char *)"kid", (char *)"2", NULL };
	void *volatile mine;
	const char *inherited;
	FILE *f;
	ssize_t n;
	pid_t pid;
	int r;

	if (argc > 2 && !strcmp(argv[1], "kid"))
		return kid(atoi(argv[2]));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = '\0';
	/* a traced parent (a shell, timeout) may have passed one: it must stay as it was */
	inherited = getenv("PERFSHIM_PARENT");
	mine = malloc(999);

	r = posix_spawn(&pid, self, NULL, NULL, kid1, environ);
	printf("posix_spawn: %d, kid exited %d\n", r, r ? -1 : wait_for(pid));
	r = posix_spawnp(&pid, self, NULL, NULL, kid2, environ);
	printf("posix_spawnp: %d, kid exited %d\n", r, r ? -1 : wait_for(pid));
	r = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, kid1, environ);
	printf("posix_spawn of a missing program: %s\n", strerror(r));
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "'%s' kid 3", self);
	r = system(cmd);
	printf("system: exited %d\n", WIFEXITED(r) ? WEXITSTATUS(r) : -1);
	printf("system(NULL): %d\n", system(NULL) != 0);
	r = system("exit 4");
	printf("system(exit 4): %d\n", WEXITSTATUS(r));
	snprintf(cmd, sizeof(cmd), "'%s' kid 4", self);
	f = popen(cmd, "r");
	if (f) {
		printf("popen: read %zu bytes", fread(cmd, 1, sizeof(cmd), f));
		r = pclose(f);
		printf(", kid exited %d\n", WIFEXITED(r) ? WEXITSTATUS(r) : -1);
	}
	printf("environ untouched: %s\n", getenv("PERFSHIM_PARENT") == inherited ? "yes" : "no");
	free(mine);
	return 0;
}
