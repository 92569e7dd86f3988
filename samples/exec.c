// exec: the first image allocates 2 blocks of 111 (keeps one) and calls stage1(), tries an exec
// that fails, then execs itself ("stage2", by the exec function named in argv[1]); the new image
// allocates 4 blocks of 444 and calls stage2() and is traced into PATH.exec. "vfork": a vfork
// child calls inchild() 500 times, then execs stage2 (a new process: PATH.<pid>), and the first
// image goes on and exits 6.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *volatile kept;

static int stage1(void)
{
	char *volatile a = malloc(111);
	char *volatile b = malloc(111);

	strcpy(a, "a");
	strcpy(b, "b");
	free(a);
	kept = b;
	return 1;
}

static volatile int in_child_calls;

static void inchild(void)
{
	in_child_calls++;
}

static int stage2(void)
{
	void *volatile p[4];	/* volatile: -O2 may not drop a malloc/free pair */
	int i;

	for (i = 0; i < 4; i++)
		p[i] = malloc(444);
	for (i = 0; i < 4; i++)
		free(p[i]);
	return 2;
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "v";
	const char *inherited;
	char self[4096];
	ssize_t n;
	int r;

	if (argc > 2 && !strcmp(argv[2], "stage2")) {
		printf("stage2 (%s): %d\n", how, stage2());
		return 5;
	}
	/* a traced parent (a shell, timeout) may have passed one: it must stay as it was */
	inherited = getenv("PERFSHIM_PARENT");
	printf("stage1: %d\n", stage1());
	errno = 0;
	r = execl("/nonexistent/program", "x", (char *)NULL);
	printf("failed exec: %d, %s\n", r, strerror(errno));
	printf("environ untouched: %s\n", getenv("PERFSHIM_PARENT") == inherited ? "yes" : "no");
	fflush(stdout);

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = '\0';
	{
		char *args[] = { argv[0], (char *)how, (char *)"stage2", NULL };

		if (!strcmp(how, "v"))
			execv(self, args);
		else if (!strcmp(how, "ve"))
			execve(self, args, environ);
		else if (!strcmp(how, "vp"))
			execvp(self, args);
		else if (!strcmp(how, "vpe"))
			execvpe(self, args, environ);
		else if (!strcmp(how, "l"))
			execl(self, argv[0], how, "stage2", (char *)NULL);
		else if (!strcmp(how, "lp"))
			execlp(self, argv[0], how, "stage2", (char *)NULL);
		else if (!strcmp(how, "le"))
			execle(self, argv[0], how, "stage2", (char *)NULL, environ);
		else if (!strcmp(how, "vfork")) {
			int status;
			pid_t pid = vfork();

			if (pid == 0) {
				int i;

				for (i = 0; i < 500; i++)
					inchild();
				execv(self, args);
				_exit(127);
			}
			if (pid < 0 || waitpid(pid, &status, 0) != pid)
				return 1;
			printf("vfork child exited %d\n", WEXITSTATUS(status));
			return 6;
		} else if (!strcmp(how, "f")) {
			int fd = open(self, O_RDONLY);

			fexecve(fd, args, environ);
		}
	}
	perror("exec");
	return 1;
}
