// phases A B: calls fa() A times, then fb() B times (defaults 1000 and 1000000), prints both
// counts and exits 0. Under a small file-size limit the trace keeps what fit: all of fa().
#include <stdio.h>
#include <stdlib.h>

static volatile unsigned long sink;

static void fa(int i)
{
	sink += (unsigned long)i;
}

static void fb(int i)
{
	sink ^= (unsigned long)i;
}

int main(int argc, char **argv)
{
	int a = argc > 1 ? atoi(argv[1]) : 1000, b = argc > 2 ? atoi(argv[2]) : 1000000, i;

	for (i = 0; i < a; i++)
		fa(i);
	for (i = 0; i < b; i++)
		fb(i);
	printf("fa: %d, fb: %d\n", a, b);
	return 0;
}
