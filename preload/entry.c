/* SPDX-License-Identifier: MIT */
/*
 * libperfshim.so run as a program (`build/libperfshim.so`), as glibc's libc.so.6 can be: a
 * PT_INTERP (.interp below) makes the kernel start ld.so, which loads the library and its
 * dependencies as for any program and jumps to the entry point set at link time
 * (-Wl,-e,ps_entry in the Makefile). That prints what the library is and how to use it, and
 * exits 0. The constructors have run by then; init.c sees ps_run_as_program() and records
 * nothing. The entry touches no libc state: raw system calls only, on the stack ld.so left.
 */
#include <sys/auxv.h>
#include <sys/syscall.h>

#include "preload/process.h"

/* The interpreter of the x86-64 ABI: an object with this section gets a PT_INTERP. */
__attribute__((section(".interp"), used)) static const char interp[] =
	"/lib64/ld-linux-x86-64.so.2";

extern const char ps_entry[] __attribute__((visibility("hidden")));
__attribute__((visibility("hidden"), noreturn, used)) void ps_usage_main(long *sp);

/*
 * The entry point, reached with %rsp at argc (argv and envp above it) and no return
 * address: clear the frame pointer (the outermost frame), align the stack for a call, and
 * hand the initial stack to C.
 */
__asm__(".text\n"
	".globl ps_entry\n"
	".hidden ps_entry\n"
	".type ps_entry, @function\n"
	"ps_entry:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call ps_usage_main\n"
	"	hlt\n"
	".size ps_entry, .-ps_entry\n");

static long raw_syscall3(long nr, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

/* Append @s at @p, never past @end. Return: the new end of the text. */
static char *put(char *p, const char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

/*
 * ps_usage_main - what the library is and how to use it, on standard output (the name it was
 * started by, argv[0], in the examples), then exit_group(0).
 */
void ps_usage_main(long *sp)
{
	const char *self = sp[0] > 0 && sp[1] ? (const char *)sp[1] : "libperfshim.so";
	char buf[2048], *p = buf;
	const char *end = buf + sizeof(buf);
	long off, n;

	p = put(p, end, "libperfshim.so: the perfshim recorder, a library to preload into a "
			"program (it is not run by itself).\n"
			"It records the calls of code built with -finstrument-functions and every "
			"malloc-family call, with\nits stack, into a trace file for "
			"perfshim-analyze.\n\nUsage: LD_PRELOAD=");
	p = put(p, end, self);
	p = put(p, end, " PROGRAM [ARGS...]\n"
			"   or: perfshim [OPTIONS] [--] PROGRAM [ARGS...]\n\n"
			"The trace goes to perfshim.PID.bin in the working directory unless "
			"PERFSHIM_OUTPUT names another\nfile. Other settings: PERFSHIM_EVENTS, "
			"PERFSHIM_STACK_DEPTH, PERFSHIM_STACK_SOURCE,\nPERFSHIM_MIN_DURATION, "
			"PERFSHIM_BUFSIZE, PERFSHIM_MARK_SIGNAL, PERFSHIM_QUIET, PERFSHIM_DEBUG.\n"
			"See libperfshim(1), perfshim(1) and perfshim-analyze(1).\n");
	for (off = 0; off < p - buf; off += n) {
		n = raw_syscall3(SYS_write, 1, (long)(buf + off), (p - buf) - off);
		if (n == -EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;
	}
	for (;;)
		raw_syscall3(SYS_exit_group, 0, 0, 0);
}

/*
 * ps_run_as_program - whether this process is libperfshim.so run as a program: the kernel's
 * entry point (AT_ENTRY) is ours. Then the constructors must not start recording.
 */
int ps_run_as_program(void)
{
	return getauxval(AT_ENTRY) == (unsigned long)ps_entry;
}
