/*
 * The mark signal: "query" prints SIGUSR2's disposition as the program sees it, "own" installs
 * a handler of its own and raises the signal, "marks" has a child process send it twice
 * (marks under the shim, the default action without it), "self" raises it (the default
 * action, with or without the shim), "timer" has a timer send it (the same).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_usr2(int sig)
{
	handled++;
}

static int work(int n)
{
	return n < 2 ? n : work(n - 1) + work(n - 2);
}

/* SIGUSR2 from another process, taken here and nowhere else (it is blocked until then). */
static void usr2_from_child(void)
{
	sigset_t usr2, old;
	pid_t pid;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, &old);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "query";
	struct sigaction old;

	sigaction(SIGUSR2, NULL, &old);
	printf("disposition: %s\n", old.sa_handler == SIG_DFL ? "default" : "other");
	if (!strcmp(mode, "own")) {
		signal(SIGUSR2, on_usr2);
		raise(SIGUSR2);
		struct sigaction sa = { .sa_handler = on_usr2 };
		sigaction(SIGUSR2, &sa, &old);
		printf("previous: %s\n", old.sa_handler == on_usr2 ? "ours" : "other");
		raise(SIGUSR2);
		printf("handled: %d\n", (int)handled);
	} else if (!strcmp(mode, "marks")) {
		printf("work: %d\n", work(10));
		usr2_from_child();
		printf("work: %d\n", work(12));
		usr2_from_child();
		printf("work: %d\n", work(8));
	} else if (!strcmp(mode, "self")) {
		printf("work: %d\n", work(10));
		fflush(stdout);
		raise(SIGUSR2);
		printf("not reached: %d\n", work(12));
	} else if (!strcmp(mode, "timer")) {
		struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
		struct itimerspec its = { .it_value = { 0, 1000000 } };
		timer_t timer;

		printf("work: %d\n", work(10));
		fflush(stdout);
		timer_create(CLOCK_MONOTONIC, &ev, &timer);
		timer_settime(timer, 0, &its, NULL);
		for (;;)
			pause();
	}
	return 0;
}
