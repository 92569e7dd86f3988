// A SIGALRM every 200 us (setitimer) whose handler siglongjmps back into a loop of calls, so
// the jump leaves from anywhere, the shim's hooks included. Usage: sigjump [JUMPS [FILE]]
// (default 1000 jumps): prints the jumps made; FILE gets "entered completed handled runs": the
// step() calls that began and ended, the jumps and the handler runs (these vary per run).
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define NOINL __attribute__((noinline))

static sigjmp_buf env;
static volatile long entered, completed, handled, runs, sink;
static long wanted;

NOINL void leaf(long i)
{
	sink += i;
}

NOINL void step(long i)
{
	entered++;
	leaf(i);
	leaf(i + 1);
	completed++;
}

NOINL void note_alarm(void)
{
	handled++;
}

NOINL void on_alarm(int sig)
{
	runs++;
	if (handled >= wanted)
		return;
	note_alarm();
	siglongjmp(env, 1);
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	struct sigaction sa;
	sigset_t alrm;
	volatile long i = 0;	/* live across sigsetjmp */
	FILE *f;

	wanted = argc > 1 ? atol(argv[1]) : 1000;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	/* env is filled before the first tick can come: a tick between arming the timer and
	 * sigsetjmp would jump through an empty buffer (seen under load, 1 run in ~300) */
	if (sigsetjmp(env, 1) == 0)
		setitimer(ITIMER_REAL, &it, NULL);
	while (handled < wanted)
		step(i++);
	/* a tick already on its way stays blocked: no jump after the loop */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_BLOCK, &alrm, NULL);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	if (argc > 2 && (f = fopen(argv[2], "w"))) {
		fprintf(f, "%ld %ld %ld %ld\n", (long)entered, (long)completed, (long)handled,
			(long)runs);
		fclose(f);
	}
	printf("jumps: %ld\n", (long)handled);
	return 0;
}
