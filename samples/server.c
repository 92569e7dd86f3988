// server: a request loop ticking every TICK_NS for RUN_NS, spinning on clock_gettime (no
// sleep, so the ticks are exact). `server steady` frees every request; `server leak` also
// keeps LEAK_SIZE bytes per request in remember_session(), a leak at a known rate.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_NS 10000000ULL		/* 10 ms */
#define RUN_NS 1500000000ULL		/* 1.5 s */
#define REQ_SIZE 4096
#define LEAK_SIZE 1000

struct session {
	struct session *next;
	char data[LEAK_SIZE - sizeof(struct session *)];
};

static struct session *sessions;
void *volatile sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static __attribute__((noinline)) void remember_session(void)
{
	struct session *s = malloc(sizeof(*s));

	memset(s->data, 5, sizeof(s->data));
	s->next = sessions;
	sessions = s;
}

static __attribute__((noinline)) void handle_request(int leak)
{
	char *req = malloc(REQ_SIZE);

	memset(req, 1, REQ_SIZE);
	sink = req;
	free(req);
	if (leak)
		remember_session();
}

int main(int argc, char **argv)
{
	int leak = argc > 1 && !strcmp(argv[1], "leak");
	uint64_t start = now_ns(), next = start, first = 0, last = 0;
	unsigned long n = 0;

	while (next - start < RUN_NS) {
		while (now_ns() < next)
			;
		handle_request(leak);
		if (!n)
			first = now_ns();
		last = now_ns();
		n++;
		next += TICK_NS;
	}
	/* the leak rate by the program's own clock: bytes kept per second between requests */
	printf("requests %lu leaked %lu bytes rate %.0f B/s\n", n, leak ? n * LEAK_SIZE : 0,
	       leak && last > first ? (double)(n - 1) * LEAK_SIZE * 1e9 / (double)(last - first) : 0.0);
	return 0;
}
