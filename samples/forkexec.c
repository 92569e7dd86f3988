// forkexec: main forks; the child calls child_pre() and execs this program again with
// "stage2", whose main calls stage2(), which calls leaf() 3 times; the parent calls
// parent_work() (leaf() twice) and waits. Traces: PATH (the parent), PATH.<pid> (the child up
// to its exec: it inherited main), PATH.<pid>.exec (the new image). Each call once over the
// three: main 2 (the parent's, the new image's), child_pre 1, stage2 1, parent_work 1, leaf 5.
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int leaf(int x)
{
	return x + 1;
}

static int stage2(void)
{
	int i, sum = 0;

	for (i = 0; i < 3; i++)
		sum += leaf(i);
	return sum;
}

static int parent_work(void)
{
	return leaf(10) + leaf(20);
}

static int child_pre(void)
{
	return 40;
}

int main(int argc, char **argv)
{
	char self[4096];
	int status;
	ssize_t n;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "stage2")) {
		printf("stage2: %d\n", stage2());
		return 3;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = '\0';
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		printf("child: %d\n", child_pre());
		fflush(stdout);
		execl(self, argv[0], "stage2", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	printf("parent: %d, child exited %d\n", parent_work(), WEXITSTATUS(status));
	return 0;
}
