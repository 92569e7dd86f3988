/* A timer signal whose handler calls exit() while the program allocates in a loop: exit may
 * interrupt the shim mid-record or mid-write (tests/run/06-robust.sh). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

static void on_alarm(int sig)
{
	(void)sig;
	exit(5);
}
int main(int argc, char **argv)
{
	long us = argc > 1 ? atol(argv[1]) : 30000;
	struct itimerval it = { .it_value = { .tv_sec = us / 1000000, .tv_usec = us % 1000000 } };
	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	for (unsigned n = 0;; n++) {
		void *volatile p = malloc(8 + n % 300);
		free(p);
	}
}
