// system() and popen() with handlers installed: while system() waits, SIGINT and SIGQUIT
// are ignored and SIGCHLD blocked (the shell's own SIGCHLD comes after it returns); the
// shell sends SIGINT and SIGQUIT to this process; the actions and mask are as they were
// after it. Prints what it sees.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t ints, chlds;

static void on_int(int sig)
{
	ints++;
}

static void on_chld(int sig)
{
	chlds++;
}

static void show(int sig, const char *name)
{
	struct sigaction o;
	sigset_t m;

	sigaction(sig, NULL, &o);
	sigprocmask(SIG_BLOCK, NULL, &m);
	printf("  %s: %s flags=%#x blocked=%d\n", name,
	       o.sa_handler == SIG_IGN   ? "SIG_IGN"
	       : o.sa_handler == SIG_DFL ? "SIG_DFL"
	       : o.sa_handler == on_int  ? "on_int"
	       : o.sa_handler == on_chld ? "on_chld"
					 : "another",
	       o.sa_flags, sigismember(&m, sig));
}

static void show_all(const char *when)
{
	printf("%s\n", when);
	show(SIGINT, "SIGINT");
	show(SIGQUIT, "SIGQUIT");
	show(SIGCHLD, "SIGCHLD");
}

int main(void)
{
	char line[64];
	FILE *f;
	int st;

	signal(SIGINT, on_int);
	signal(SIGCHLD, on_chld);
	show_all("before");
	fflush(stdout);
	st = system("kill -INT $PPID; kill -QUIT $PPID; exit 3");
	printf("system: exited=%d code=%d, SIGINT handled %d, SIGCHLD handled %d\n",
	       WIFEXITED(st), WEXITSTATUS(st), (int)ints, (int)chlds);
	show_all("after");
	printf("system(NULL) = %d\n", system(NULL));
	fflush(stdout);
	st = system("exit 300");
	printf("exit 300: code=%d\n", WEXITSTATUS(st));
	signal(SIGINT, SIG_IGN);
	fflush(stdout);
	st = system("kill -INT $$; echo shell survived SIGINT; exit 4");
	printf("ignored SIGINT: code=%d\n", WEXITSTATUS(st));
	f = popen("echo from popen; exit 5", "r");
	if (f && fgets(line, sizeof(line), f))
		printf("read: %s", line);
	st = f ? pclose(f) : -1;
	printf("pclose: code=%d\n", WEXITSTATUS(st));
	show_all("at the end");
	return 0;
}
