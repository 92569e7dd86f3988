// Signal handlers that call instrumented functions, on a thread whose alternate signal stack
// lies above its stack: 5 handler() calls nest in work(); 7 alt_handler() calls on the
// alternate stack longjmp inside it; 3 of those siglongjmp out to thread_main().
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>

#define ALT_SIZE (256 * 1024)

static char *alt;
static sigjmp_buf out_env;
static jmp_buf in_env;
static volatile int jump_out, sink;

__attribute__((noinline)) void in_handler(void)
{
	sink++;
}

__attribute__((noinline)) void inner_jump(void)
{
	longjmp(in_env, 1);
}

/* SIGUSR1 on the thread's own stack */
__attribute__((noinline)) void handler(int sig)
{
	in_handler();
	in_handler();
}

/* SIGUSR1 on the alternate stack: a longjmp that stays on it, then maybe one out of it */
__attribute__((noinline)) void alt_handler(int sig)
{
	if (setjmp(in_env) == 0)
		inner_jump();
	in_handler();
	if (jump_out)
		siglongjmp(out_env, 1);
}

__attribute__((noinline)) void work(void)
{
	raise(SIGUSR1);
	sink++;
}

__attribute__((noinline)) void deep(void)
{
	raise(SIGUSR1);
	sink++;
}

__attribute__((noinline)) void after_jump(void)
{
	sink++;
}

static void *thread_main(void *arg)
{
	struct sigaction sa = { 0 };
	stack_t ss = { .ss_sp = alt, .ss_size = ALT_SIZE };
	volatile int i, jumps = 0;	/* live across sigsetjmp */

	sa.sa_handler = handler;
	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < 5; i++)
		work();

	sigaltstack(&ss, NULL);
	sa.sa_handler = alt_handler;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < 4; i++)
		work();

	jump_out = 1;
	for (i = 0; i < 3; i++) {
		if (sigsetjmp(out_env, 1) == 0) {
			deep();
		} else {
			jumps++;
			after_jump();
		}
	}
	printf("sink %d jumps %d\n", sink, jumps);
	return NULL;
}

int main(void)
{
	pthread_t th;

	/* Mapped before the thread's stack, so above it: handler frames sit above the
	 * frames they interrupt. */
	alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (alt == MAP_FAILED || pthread_create(&th, NULL, thread_main, NULL)) {
		perror("signals");
		return 1;
	}
	pthread_join(th, NULL);
	return 0;
}
