// sigmark: a test harness marks this program from outside (kill -USR2) at the points it
// announces: "ready 1" before hold() keeps SIG_N blocks of SIG_SIZE bytes, "ready 2" after.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIG_N 10
#define SIG_SIZE 100

/*
 * Between signal-1 (sent after "ready 1") and signal-2 (after "ready 2") the heap grows by
 * exactly SIG_N x SIG_SIZE = 1000 B from hold(), and temp() allocates and frees 10 x 256 B
 * (tests/run/81-diff-signal.sh).
 */
static void *held[SIG_N];
void *volatile sink;

/* Wait for one line on stdin, through the mark signal's interruptions. */
static void wait_go(void)
{
	char c;
	ssize_t n;

	do {
		n = read(0, &c, 1);
		if (n == 1 && c == '\n')
			return;
	} while (n == 1 || (n < 0 && errno == EINTR));
	exit(3);
}

static void announce(int k)
{
	char line[16];
	int len = snprintf(line, sizeof(line), "ready %d\n", k);

	if (write(1, line, (size_t)len) != len)
		exit(4);
}

static __attribute__((noinline)) void hold(int i)
{
	held[i] = malloc(SIG_SIZE);
	memset(held[i], 1, SIG_SIZE);
}

static __attribute__((noinline)) void temp(void)
{
	char *p = malloc(256);

	p[0] = 1;
	sink = p;
	free(p);
}

int main(void)
{
	int i;

	announce(1);
	wait_go();
	for (i = 0; i < SIG_N; i++) {
		hold(i);
		temp();
	}
	announce(2);
	wait_go();
	for (i = 0; i < SIG_N; i++)
		free(held[i]);
	return 0;
}
