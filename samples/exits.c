// exits: calls work() N times (argv[2], default 100000), then leaves by argv[1]: "daemon"
// (daemon(1, 1): the parent leaves through glibc's internal _exit, the child calls work() 500
// times and exits 0), "syscall" (syscall(SYS_exit_group, 3)), "asm" (exit_group(3) in inline
// assembly), "thread" (a second thread calls twork() N/2 times and waits; main then does the
// asm exit_group), "kill" (prints "ready PID" and waits for a SIGKILL), "abort", "segv".
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile unsigned long sink;
static sem_t ready;

static void work(int i)
{
	sink += (unsigned long)i;
}

static void twork(int i)
{
	sink += (unsigned long)i * 3;
}

static void work_n(int n)
{
	int i;

	for (i = 0; i < n; i++)
		work(i);
}

static void *worker(void *arg)
{
	int i, n = *(int *)arg;

	for (i = 0; i < n; i++)
		twork(i);
	sem_post(&ready);
	for (;;)
		pause();
	return NULL;
}

static void __attribute__((noreturn)) raw_exit_group(int status)
{
	__asm__ volatile("syscall" : : "a"(SYS_exit_group), "D"(status) : "rcx", "r11", "memory");
	__builtin_unreachable();
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "syscall";
	int n = argc > 2 ? atoi(argv[2]) : 100000;

	work_n(n);
	printf("%s: %d calls\n", how, n);
	fflush(stdout);
	if (!strcmp(how, "daemon")) {
		if (daemon(1, 1) < 0) {
			perror("daemon");
			return 1;
		}
		work_n(500);
		printf("daemon child: 500 calls\n");
		return 0;
	}
	if (!strcmp(how, "syscall"))
		syscall(SYS_exit_group, 3);
	if (!strcmp(how, "asm"))
		raw_exit_group(3);
	if (!strcmp(how, "thread")) {
		pthread_t th;
		int half = n / 2;

		sem_init(&ready, 0, 0);
		pthread_create(&th, NULL, worker, &half);
		while (sem_wait(&ready) < 0)
			;
		raw_exit_group(3);
	}
	if (!strcmp(how, "kill")) {
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(how, "abort"))
		abort();
	if (!strcmp(how, "segv")) {
		volatile int *p = NULL;

		*p = 1;
	}
	fprintf(stderr, "exits: unknown way out '%s'\n", how);
	return 2;
}
