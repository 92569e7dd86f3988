/*
 * The mark signal: "query" prints SIGUSR2's disposition as the program sees it, "own" installs
 * a handler of its own and raises the signal, "marks" raises it twice (marks under the shim).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t handled;

static void on_usr2(int sig)
{
	handled++;
}

static int work(int n)
{
	return n < 2 ? n : work(n - 1) + work(n - 2);
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
		raise(SIGUSR2);
		printf("work: %d\n", work(12));
		raise(SIGUSR2);
		printf("work: %d\n", work(8));
	}
	return 0;
}
