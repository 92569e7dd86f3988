// A SIGALRM handler (setitimer, every 100 us) that mallocs and frees 777 bytes, exactly N times
// (default 2000), only while the main loop is outside malloc/free (glibc's are not reentrant).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define NOINL __attribute__((noinline))

static volatile sig_atomic_t in_malloc;	/* main loop is inside malloc or free */
static volatile unsigned long handled;	/* handler allocations made */
static unsigned long wanted;
static char outbuf[4096];	/* stdout's buffer: stdio allocates nothing */

static NOINL void on_alarm(int sig)
{
	char *p;

	if (in_malloc || handled >= wanted)
		return;
	p = malloc(777);
	if (p) {
		p[0] = (char)sig;
		p[776] = 1;
		free(p);
	}
	handled++;
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, 100 }, { 0, 100 } };
	struct sigaction sa;
	unsigned long loops = 0;
	volatile unsigned spin;

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	wanted = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (handled < wanted) {
		char *q;

		in_malloc = 1;
		q = malloc(32 + loops % 64);
		in_malloc = 0;
		if (q)
			q[0] = 1;
		in_malloc = 1;
		free(q);
		in_malloc = 0;
		loops++;
		for (spin = 0; spin < 2000; spin++)	/* mostly outside malloc */
			;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	printf("handler allocations: %lu\n", handled);
	return 0;
}
