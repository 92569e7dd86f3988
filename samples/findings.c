// Findings: each mode (argv[1]) makes exactly one of the `findings` rules fire, with known
// numbers (growth: the program is killed, run it with PERFSHIM_BUFSIZE=64K); "clean" does the same work the way each rule's advice says. tests/run/86-findings.sh.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned long sink;

/* about @n iterations of work that calls nothing */
#define SPIN(n)                                                                            \
	do {                                                                               \
		for (unsigned long s_ = 0; s_ < (n); s_++)                                 \
			sink += s_;                                                        \
	} while (0)

/* churn: 5000 temporaries of 64 bytes from one site */
static void churn_loop(void)
{
	for (int i = 0; i < 5000; i++) {
		char *p = malloc(64);

		memset(p, i, 64);
		sink += (unsigned char)p[7];
		free(p);
	}
}

/* realloc-growth: a block grown 200 times by 16 bytes, 16 to 3216 */
static void grow_linear(void)
{
	char *p = malloc(16);

	for (int i = 1; i <= 200; i++) {
		p = realloc(p, 16 * (i + 1));
		p[16 * i] = (char)i;
	}
	sink += (unsigned char)p[3200];
	free(p);
}

/* n-plus-one, calls: 4 reports, each fetching its 25 rows one call at a time */
static unsigned long checksum(int row)
{
	unsigned long c = (unsigned long)row;

	SPIN(40000);
	return c + sink;
}

static unsigned long fetch_row(int row)
{
	return checksum(row);
}

static void report(int page)
{
	for (int row = 0; row < 25; row++)
		sink += fetch_row(page * 25 + row);
}

/* n-plus-one, allocations: 3 lists of 40 nodes of 24 bytes, one allocation per node */
struct node {
	struct node *next;
	long a, b;
};

static struct node *load_list(void)
{
	struct node *head = NULL;

	for (int i = 0; i < 40; i++) {
		struct node *n = malloc(sizeof(*n));

		n->a = i;
		n->b = -i;
		n->next = head;
		head = n;
	}
	return head;
}

static void free_list(struct node *n)
{
	while (n) {
		struct node *next = n->next;

		sink += (unsigned long)n->a;
		free(n);
		n = next;
	}
}

/* leak: 10 blocks of 100 bytes never freed */
static void *kept[10];

static void leak_some(void)
{
	for (int i = 0; i < 10; i++)
		kept[i] = malloc(100);
}

/*
 * growth: 20000 blocks of 64..120 bytes kept at a steady pace, then the process is killed
 * (a server that grows until it is stopped): the heap grows, and nothing is called leaked
 * because the process's end is not seen.
 */
static void *cache[20000];

static void fill_cache(void)
{
	for (int i = 0; i < 20000; i++) {
		cache[i] = malloc(64 + (size_t)(i % 8) * 8);
		SPIN(2000);
	}
}

/* high-memory: one block of 600 MiB (never touched), freed at once */
static void big_block(void)
{
	char *p = malloc(600UL << 20);

	sink += p != NULL;
	free(p);
}

/* tiny-hot: 50000 calls of a one-line leaf */
static unsigned long add1(unsigned long x)
{
	return x + 1;
}

static void tiny_loop(int n)
{
	unsigned long acc = 0;

	for (int i = 0; i < n; i++)
		acc = add1(acc);
	sink += acc;
}

/* deep-recursion: descend(1500) is 1501 activations on one path */
static unsigned long descend(int n)
{
	if (n == 0)
		return 0;
	return descend(n - 1) + 1;
}

/* clean: each of the above done as its advice says, at a small scale */
static void clean(void)
{
	char *buf = malloc(64), *p = malloc(16);
	size_t cap = 16;
	struct node *rows = calloc(40, sizeof(*rows));

	for (int i = 0; i < 5000; i++) {	/* one buffer reused */
		memset(buf, i, 64);
		sink += (unsigned char)buf[7];
	}
	while (cap < 4096) {			/* geometric growth */
		cap *= 2;
		p = realloc(p, cap);
		p[cap - 1] = 1;
	}
	for (int i = 0; i < 4; i++)		/* one batched call per report */
		sink += checksum(i);
	for (int i = 0; i < 40; i++)
		rows[i].a = i;
	tiny_loop(100);
	sink += descend(50);
	free(rows);
	free(p);
	free(buf);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "clean";

	if (!strcmp(mode, "churn")) {
		churn_loop();
	} else if (!strcmp(mode, "realloc")) {
		grow_linear();
	} else if (!strcmp(mode, "n1-calls")) {
		for (int page = 0; page < 4; page++)
			report(page);
	} else if (!strcmp(mode, "n1-alloc")) {
		for (int i = 0; i < 3; i++)
			free_list(load_list());
	} else if (!strcmp(mode, "leak")) {
		leak_some();
	} else if (!strcmp(mode, "growth")) {
		fill_cache();
		raise(SIGKILL);
	} else if (!strcmp(mode, "high-memory")) {
		big_block();
	} else if (!strcmp(mode, "tiny")) {
		tiny_loop(50000);
	} else if (!strcmp(mode, "recursion")) {
		sink += descend(1500);
	} else if (!strcmp(mode, "clean")) {
		clean();
	} else {
		fprintf(stderr, "usage: findings [clean|churn|realloc|n1-calls|n1-alloc|leak|"
				"growth|high-memory|tiny|recursion]\n");
		return 2;
	}
	return 0;
}
