// Synchronous faults whose handlers read and change the interrupted context: SIGILL (ud2),
// SIGSEGV (a load from address 8), SIGFPE (a division by 0), SIGBUS (past a file's end) and
// SIGTRAP (int3) each skip the faulting instruction by moving the pc; a SIGSEGV handler
// siglongjmps out; at the end a one-shot crash handler returns and the fault kills the
// program (status 139). Prints what each handler saw.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define NOINL __attribute__((noinline, noclone))

/* The faulting instructions and the ones after them (labels in the asm below). */
extern char ill_at[], ill_after[], segv_at[], segv_after[], fpe_at[], fpe_after[];
extern char bus_at[], bus_after[], trap_after[];

static struct {
	int sig, code;
	long addr_off;		/* si_addr - the instruction (or - the address loaded) */
	long pc_off;		/* the context's pc - the faulting instruction */
	const char *below;	/* the object of the frame under the handler */
} seen;
static char *expect_addr, *expect_pc, *resume_pc;
static sigjmp_buf env;
static volatile int jumps;

static const char *object_of(void *pc)
{
	Dl_info di;
	const char *slash;

	if (!dladdr(pc, &di) || !di.dli_fname)
		return "?";
	slash = strrchr(di.dli_fname, '/');
	return slash ? slash + 1 : di.dli_fname;
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	void *frames[3];
	int n = backtrace(frames, 3);

	seen.sig = sig;
	seen.code = si->si_code;
	seen.addr_off = (char *)si->si_addr - expect_addr;
	seen.pc_off = (char *)uc->uc_mcontext.gregs[REG_RIP] - expect_pc;
	seen.below = n > 1 ? object_of(frames[1]) : "none";
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)resume_pc;	/* skip it */
}

static void on_jump(int sig)
{
	jumps++;
	siglongjmp(env, 1);
}

static void on_crash(int sig)
{
	static const char msg[] = "crash handler ran\n";

	write(1, msg, sizeof(msg) - 1);
	/* returns: the load runs again, with the default action now */
}

NOINL void ill(void)
{
	__asm__ volatile("ill_at: ud2\nill_after:");
}

NOINL int segv(const int *p)
{
	int v;

	__asm__ volatile("segv_at: movl (%1), %0\nsegv_after:" : "=r"(v) : "r"(p) : "memory");
	return v;
}

NOINL int fpe(int d)
{
	int q;

	__asm__ volatile("fpe_at: movl $1, %%eax\n cltd\n idivl %1\nfpe_after:"
			 : "=&a"(q) : "r"(d) : "rdx");
	return q;
}

NOINL int bus(const int *p)
{
	int v;

	__asm__ volatile("bus_at: movl (%1), %0\nbus_after:" : "=r"(v) : "r"(p) : "memory");
	return v;
}

NOINL void trap(void)
{
	__asm__ volatile("int3\ntrap_after:");
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void report(const char *what)
{
	printf("%-6s sig=%d code=%d addr%+ld pc%+ld below=%s\n", what, seen.sig, seen.code,
	       seen.addr_off, seen.pc_off, seen.below);
	memset(&seen, 0, sizeof(seen));
}

int main(void)
{
	char path[] = "/tmp/sigfaults.XXXXXX";
	struct sigaction sa;
	void *warm[2];
	int fd, *map, i;
	volatile int zero = 0;

	backtrace(warm, 2);	/* libgcc's unwinder loaded now, not in a handler */
	install(SIGILL, on_fault, 0);
	install(SIGSEGV, on_fault, SA_NODEFER);
	install(SIGFPE, on_fault, 0);
	install(SIGBUS, on_fault, 0);
	install(SIGTRAP, on_fault, 0);

	expect_addr = expect_pc = ill_at, resume_pc = ill_after;
	ill();
	report("ill");
	expect_addr = (char *)8, expect_pc = segv_at, resume_pc = segv_after;
	segv((const int *)8);
	report("segv");
	expect_addr = expect_pc = fpe_at + 6, resume_pc = fpe_after;	/* the idivl */
	fpe(zero);
	report("fpe");
	fd = mkstemp(path);
	map = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (map != MAP_FAILED) {
		expect_addr = (char *)map, expect_pc = bus_at, resume_pc = bus_after;
		bus(map);
		report("bus");
		munmap(map, 4096);
	}
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	expect_addr = NULL, expect_pc = trap_after, resume_pc = trap_after;
	trap();
	report("trap");

	/* leaving by siglongjmp, three times */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_jump;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	for (i = 0; i < 3; i++)
		if (sigsetjmp(env, 1) == 0)
			segv((const int *)8);
	printf("jumps: %d\n", jumps);

	/* a one-shot crash handler that returns: the fault comes back and kills */
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	fflush(stdout);
	segv((const int *)8);
	printf("not reached\n");
	return 0;
}
