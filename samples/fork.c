// fork(): before it main allocates 100 bytes; after it the parent makes 2 blocks of 300 and
// 4 calls of leaf(), the child 3 blocks of 200 and 5 calls of leaf(); each writes its own trace.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int leaf(int x)
{
	return x * 2 + 1;
}

/* n blocks of size bytes, all freed; n calls of leaf() */
static int work(int n, size_t size)
{
	void *volatile blocks[8];	/* volatile: -O2 may not drop a malloc/free pair */
	int i, sum = 0;

	for (i = 0; i < n; i++) {
		blocks[i] = malloc(size);
		memset(blocks[i], i, size);
		sum += leaf(i);
	}
	for (i = 0; i < n; i++)
		free(blocks[i]);
	return sum;
}

static int child_work(void)
{
	int sum = work(3, 200);

	sum += leaf(10) + leaf(11);
	return sum;
}

static int parent_work(void)
{
	int sum = work(2, 300);

	sum += leaf(20) + leaf(21);
	return sum;
}

int main(void)
{
	char *volatile before = malloc(100);
	int status;
	pid_t pid;

	strcpy(before, "before fork");
	free(before);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		printf("child: %d\n", child_work());
		fflush(stdout);
		_exit(7);
	}
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	printf("parent: %d, child exited %d\n", parent_work(), WEXITSTATUS(status));
	return 0;
}
