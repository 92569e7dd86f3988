// Preloaded next to the shim, its constructor allocates (malloc, realloc, calloc, free) before
// or after the shim's own constructor depending on the order: the hooks resolve lazily.
#include <stdlib.h>
#include <string.h>

void *early_block;

__attribute__((constructor, no_instrument_function)) static void early(void)
{
	void *c;

	early_block = malloc(100);
	if (early_block)
		memset(early_block, 1, 100);
	early_block = realloc(early_block, 200);
	c = calloc(3, 10);
	free(c);
}
