// execself N: calls step() once, then execs itself with N-1 until N is 0 (N + 1 images in one
// process), then exits 0. Each image's trace is PATH, PATH.exec, PATH.exec2, ...
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int sink;

static void step(int n)
{
	sink = n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	char arg[16];

	step(n);
	if (n <= 0) {
		printf("last image\n");
		return 0;
	}
	snprintf(arg, sizeof(arg), "%d", n - 1);
	execl("/proc/self/exe", argv[0], arg, (char *)NULL);
	perror("execl");
	return 1;
}
