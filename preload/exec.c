/* SPDX-License-Identifier: MIT */
/*
 * The exec family, posix_spawn[p], system() and popen(): a new image is told which trace it
 * follows (PERFSHIM_PARENT=<pid>:<trace path>, read by tracefile.c to name its own file), and
 * before an exec in this process every buffer is written; so are they before _exit/_Exit.
 * docs/design.md "Processes" has the rules.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload/interpose.h"
#include "preload/process.h"
#include "preload/tracefile.h"

#define ENV_ON_STACK 65536		/* bytes: larger environments go to an mmap */

extern char **environ;

/* Before the constructors (another library's constructor), the settings are noted now. */
__attribute__((constructor(102))) static void ps_exec_init(void)
{
	int saved = errno;

	ps_env_init();
	errno = saved;
}

/*
 * Resolve @fn now if a call comes before the constructors (the table, interpose.c, resolves
 * it in its constructor so that a vfork child finds it set), and note the settings first.
 * A missing one fails its call with ENOSYS (do_call and the wrappers below).
 */
#define NEED(fn)                                                                            \
	do {                                                                                \
		ps_env_init();                                                              \
		(void)ps_real(fn);                                                          \
	} while (0)

/* What to run once the environment is ready: one of the wrapped calls. */
enum call_kind { C_EXECVE, C_EXECVPE, C_FEXECVE, C_EXECVEAT, C_SPAWN, C_SPAWNP };

struct call {
	enum call_kind kind;
	const char *path;
	int fd, flags;
	char *const *argv;
	pid_t *pid;
	const posix_spawn_file_actions_t *fa;
	const posix_spawnattr_t *attr;
};

/* Return and errno: the real call's; -1 and ENOSYS (an error number for the spawns) when the
 * next definition is missing (said once by the table). */
static int do_call(const struct call *c, char *const env[])
{
	switch (c->kind) {
	case C_EXECVE:
		if (ps_real_execve)
			return ps_real_execve(c->path, c->argv, env);
		break;
	case C_EXECVPE:
		if (ps_real_execvpe)
			return ps_real_execvpe(c->path, c->argv, env);
		break;
	case C_FEXECVE:
		if (ps_real_fexecve)
			return ps_real_fexecve(c->fd, c->argv, env);
		break;
	case C_EXECVEAT:
		if (ps_real_execveat)
			return ps_real_execveat(c->fd, c->path, c->argv, env, c->flags);
		break;
	case C_SPAWN:
		if (ps_real_posix_spawn)
			return ps_real_posix_spawn(c->pid, c->path, c->fa, c->attr, c->argv, env);
		return ENOSYS;
	case C_SPAWNP:
		if (ps_real_posix_spawnp)
			return ps_real_posix_spawnp(c->pid, c->path, c->fa, c->attr, c->argv, env);
		return ENOSYS;
	}
	errno = ENOSYS;
	return -1;
}

/*
 * Run @c with the environment childenv.c builds from @envp (LD_PRELOAD, the settings,
 * PERFSHIM_PARENT). It lives on this frame's stack when small (no malloc: a vfork child
 * must not touch the shared heap, and a failed exec leaks nothing), in an mmap otherwise.
 * Return and errno: the real call's.
 */
static int with_env(const struct call *c, char *const envp[])
{
	static char *const empty[] = { NULL };
	size_t bytes;
	int ret, saved;

	if (!envp)
		envp = empty;		/* Linux takes a NULL environment as an empty one */
	bytes = ps_env_size(envp);
	if (bytes <= ENV_ON_STACK) {
		uint64_t mem[bytes / sizeof(uint64_t)];

		return do_call(c, ps_env_build(mem, envp));
	} else {
		void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);

		if (mem == MAP_FAILED)
			return do_call(c, envp);
		ret = do_call(c, ps_env_build(mem, envp));
		saved = errno;
		munmap(mem, bytes);
		errno = saved;
		return ret;
	}
}

/*
 * Modules glibc loaded behind the dlopen wrapper (modules.c) go into the trace before it
 * ends. Never in a vfork child: it would write into the parent's buffer.
 */
static void record_late_modules(void)
{
	struct ps_thread *t;

	if (!ps_recording || getpid() != ps_pid)
		return;
	t = ps_thread_get();
	if (t && !t->guard)
		ps_modules_record(t);
}

/*
 * The common path of the exec family. A trace exists from the constructor's start until the
 * image ends, even once recording stopped (disk full, final flush): the new image must then
 * still be told it follows one, or an explicit PERFSHIM_OUTPUT would truncate this file.
 */
static int exec_common(const struct call *c, char *const envp[])
{
	if (!ps_trace_path[0])
		return do_call(c, envp);
	record_late_modules();
	/* lifecycle.c writes nothing when this is a vfork child or recording is off */
	ps_exec_prepare();
	return with_env(c, envp);
}

PS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	struct call c = { .kind = C_EXECVE, .path = path, .argv = argv };

	NEED(execve);
	return exec_common(&c, envp);
}

PS_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

/* PATH is searched by glibc's execvpe in the caller's PATH, as execvp does. */
PS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct call c = { .kind = C_EXECVPE, .path = file, .argv = argv };

	NEED(execvpe);
	return exec_common(&c, envp);
}

PS_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

PS_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct call c = { .kind = C_FEXECVE, .fd = fd, .argv = argv };

	NEED(fexecve);
	return exec_common(&c, envp);
}

PS_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
		       int flags)
{
	struct call c = { .kind = C_EXECVEAT, .fd = dirfd, .path = path, .argv = argv,
			  .flags = flags };

	NEED(execveat);
	return exec_common(&c, envp);
}

/*
 * execl, execlp, execle: the arguments after @arg0 (@ap, up to the NULL) become an argv on
 * the stack (no malloc: a vfork child may call these), then the hooked execve or execvpe
 * (@search) runs it. @has_envp: the environment follows the NULL (execle), else environ.
 */
static int exec_list(const char *path, bool search, bool has_envp, const char *arg0,
		     va_list ap)
{
	char *const *envp = environ;
	va_list aq;
	size_t n, i;

	va_copy(aq, ap);
	for (n = 1; va_arg(aq, const char *); n++)
		;
	va_end(aq);
	{
		char *argv[n + 1];

		argv[0] = (char *)arg0;
		for (i = 1; i <= n; i++)	/* argv[n] = the NULL */
			argv[i] = va_arg(ap, char *);
		if (has_envp)
			envp = va_arg(ap, char *const *);
		return search ? execvpe(path, argv, envp) : execve(path, argv, envp);
	}
}

PS_EXPORT int execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg0);
	ret = exec_list(path, false, false, arg0, ap);
	va_end(ap);
	return ret;
}

PS_EXPORT int execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg0);
	ret = exec_list(file, true, false, arg0, ap);
	va_end(ap);
	return ret;
}

PS_EXPORT int execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg0);
	ret = exec_list(path, false, true, arg0, ap);
	va_end(ap);
	return ret;
}

/*
 * posix_spawn[p]: another process, so nothing is flushed; its image learns our pid and path
 * and follows the fork rule (a file of its own, "<path>.<pid>" or %p).
 */
static int spawn_common(const struct call *c, char *const envp[])
{
	if (!ps_trace_path[0])
		return do_call(c, envp);
	return with_env(c, envp);
}

PS_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	struct call c = { .kind = C_SPAWN, .path = path, .argv = argv, .pid = pid, .fa = fa,
			  .attr = attr };

	NEED(posix_spawn);
	return spawn_common(&c, envp);
}

PS_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	struct call c = { .kind = C_SPAWNP, .path = file, .argv = argv, .pid = pid, .fa = fa,
			  .attr = attr };

	NEED(posix_spawnp);
	return spawn_common(&c, envp);
}

/*
 * system(): glibc spawns the shell with an internal call we cannot see, with the program's
 * environment, so the shell would not know it follows this trace (and with an explicit
 * PERFSHIM_OUTPUT would write over it). This is glibc's algorithm (POSIX's) with the spawn
 * going through the wrapper above: SIGINT and SIGQUIT ignored while any thread waits in
 * system() (counted), SIGCHLD blocked, the child getting the old mask and default actions,
 * and "exit 127" when the shell cannot run.
 */
static pthread_mutex_t sys_lock = PTHREAD_MUTEX_INITIALIZER;
static int sys_refs;
static struct sigaction sys_intr, sys_quit;

struct sys_wait {
	sigset_t omask;
};

static void sys_restore(void *arg)
{
	struct sys_wait *w = arg;

	pthread_mutex_lock(&sys_lock);
	if (--sys_refs == 0) {
		sigaction(SIGINT, &sys_intr, NULL);
		sigaction(SIGQUIT, &sys_quit, NULL);
	}
	pthread_mutex_unlock(&sys_lock);
	sigprocmask(SIG_SETMASK, &w->omask, NULL);
}

static int do_system(const char *line)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)line, NULL };
	struct sigaction sa = { .sa_handler = SIG_IGN };
	struct sys_wait w;
	posix_spawnattr_t attr;
	sigset_t reset;
	pid_t pid;
	int status = -1, ret;

	sigemptyset(&sa.sa_mask);
	pthread_mutex_lock(&sys_lock);
	if (sys_refs++ == 0) {
		sigaction(SIGINT, &sa, &sys_intr);
		sigaction(SIGQUIT, &sa, &sys_quit);
	}
	pthread_mutex_unlock(&sys_lock);

	sigaddset(&sa.sa_mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sa.sa_mask, &w.omask);

	sigemptyset(&reset);
	if (sys_intr.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGINT);
	if (sys_quit.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &w.omask);
	posix_spawnattr_setsigdefault(&attr, &reset);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	NEED(posix_spawn);
	ret = spawn_common(&(struct call){ .kind = C_SPAWN, .path = "/bin/sh", .argv = argv,
					  .pid = &pid, .attr = &attr },
			   environ);
	posix_spawnattr_destroy(&attr);

	if (ret == 0) {
		pthread_cleanup_push(sys_restore, &w);
		/* system() is a cancellation point: the handlers come back if we are cancelled */
		while ((ret = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		if (ret != pid)
			status = -1;
		pthread_cleanup_pop(0);
		ret = 0;
	} else {
		status = W_EXITCODE(127, 0);
	}
	sys_restore(&w);
	if (ret != 0)
		errno = ret;
	return status;
}

/*
 * popen: the same problem as system() (glibc spawns the shell with an internal call and the
 * global environ), solved by pointing environ at a copy that holds PERFSHIM_PARENT for the
 * duration of the call. Concurrent popens are serialised (each restores what it saw), and
 * the copy outlives the call until the next popen: a getenv() running meanwhile in another
 * thread may still walk it. The lock is made anew in a fork child.
 */
static pthread_mutex_t popen_lock = PTHREAD_MUTEX_INITIALIZER;
static char **popen_env;		/* the last copy, mmap'd */
static size_t popen_env_bytes;

static void popen_atfork_child(void)
{
	pthread_mutex_init(&popen_lock, NULL);
}

PS_EXPORT FILE *popen(const char *command, const char *mode)
{
	static int atfork_done;
	size_t bytes;
	char **env, **saved_env;
	int saved;
	FILE *f;

	NEED(popen);
	if (!ps_real_popen) {
		errno = ENOSYS;
		return NULL;
	}
	if (!ps_trace_path[0] || !environ)
		return ps_real_popen(command, mode);
	pthread_mutex_lock(&popen_lock);
	if (!atfork_done) {
		atfork_done = 1;
		pthread_atfork(NULL, NULL, popen_atfork_child);
	}
	bytes = ps_env_size(environ);
	env = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (env == MAP_FAILED) {
		pthread_mutex_unlock(&popen_lock);
		return ps_real_popen(command, mode);
	}
	env = ps_env_build(env, environ);
	saved_env = environ;
	environ = env;
	f = ps_real_popen(command, mode);
	saved = errno;
	environ = saved_env;
	if (popen_env)
		munmap(popen_env, popen_env_bytes);
	popen_env = env;
	popen_env_bytes = bytes;
	pthread_mutex_unlock(&popen_lock);
	errno = saved;
	return f;
}

PS_EXPORT int system(const char *line)
{
	NEED(system);
	if (!ps_real_system) {
		errno = ENOSYS;
		return -1;
	}
	if (!ps_trace_path[0])
		return ps_real_system(line);
	/* NULL asks whether a shell is there: glibc answers by running "exit 0" */
	if (!line)
		return do_system("exit 0") == 0;
	return do_system(line);
}

/*
 * _exit and _Exit end the image without the destructors that write the buffers: forked
 * children (and shells) often leave that way, and their whole trace would be lost. exit()
 * does not come here (glibc calls its own _exit directly, after our destructor ran). A vfork
 * child leaving after a failed exec is not the trace's owner and writes nothing.
 */
static void __attribute__((noreturn)) exit_common(void (*real)(int), int status)
{
	/*
	 * Not from a signal handler that interrupted one of our hooks (guard set): the
	 * interrupted code may hold the locks the flush takes, and waiting would hang the exit.
	 */
	if (ps_trace_live && getpid() == ps_pid && !ps_self.guard) {
		record_late_modules();
		ps_flush_all(1);
	}
	if (real)
		real(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

PS_EXPORT void _exit(int status)
{
	exit_common(ps_real(_exit), status);
}

PS_EXPORT void _Exit(int status)
{
	exit_common(ps_real(_Exit), status);
}

/*
 * syscall(): a program that leaves through syscall(SYS_exit_group) skips exit() and _exit()
 * alike; its trace is finished here as by _exit. syscall(SYS_exit) ends only the calling
 * thread (its last chunk, as at pthread_exit). Everything else goes straight through. An
 * exit_group made without glibc (inline assembly) is not seen: the mapped chunks still keep
 * every committed record, but the trace has no PROCESS_END (readers say so).
 */
PS_EXPORT long syscall(long nr, ...)
{
	long a[6];
	va_list ap;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);	/* unused ones are whatever the registers held */
	va_end(ap);
	if ((nr == SYS_exit_group || nr == SYS_exit) && ps_trace_live && getpid() == ps_pid &&
	    !ps_self.guard) {
		int saved = errno;

		if (nr == SYS_exit_group) {
			record_late_modules();
			ps_flush_all(1);
		} else {
			ps_thread_finish(&ps_self);
		}
		errno = saved;
	}
	NEED(syscall);
	if (!ps_real_syscall) {
		errno = ENOSYS;
		return -1;
	}
	return ps_real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/*
 * daemon(): glibc's parent leaves through its internal _exit, which no wrapper sees. This is
 * glibc's daemon() (misc/daemon.c) with the parent leaving through the _exit above, so its
 * trace ends like any other; the child, a fork child, gets its own.
 */
PS_EXPORT int daemon(int nochdir, int noclose)
{
	struct stat st;
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if (!nochdir && chdir("/") < 0) {
		/* as glibc: the result is not checked */
	}
	if (noclose)
		return 0;
	fd = open("/dev/null", O_RDWR, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(fd);
		errno = ENODEV;		/* no call failed: glibc says this */
		return -1;
	}
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > 2)
		close(fd);
	return 0;
}

/*
 * vfork(): the child runs on this thread's stack and TLS until it execs or exits, so any hook
 * it calls would write into the parent's buffer. The thread's state is PS_T_VFORK from just
 * before the system call until it returns in the parent: the child's calls before its exec
 * are not recorded (its exec'd image has a trace of its own). Assembly: the child may reuse
 * the stack below the caller's frame, so nothing is kept there across the system call (as in
 * glibc's vfork, the return address waits in a register).
 */
static __thread int vfork_saved PS_TLS;

__attribute__((visibility("hidden"))) void ps_vfork_enter(void);
__attribute__((visibility("hidden"))) pid_t ps_vfork_leave(long ret);

PS_NOINSTR void ps_vfork_enter(void)
{
	vfork_saved = ps_self.state;
	ps_signal_fence();
	ps_self.state = PS_T_VFORK;
}

/* In the parent (or after a failure): the state back, glibc's errno convention. */
PS_NOINSTR pid_t ps_vfork_leave(long ret)
{
	if (ps_self.state == PS_T_VFORK)	/* not if the exit flush cut the thread meanwhile */
		ps_self.state = vfork_saved;
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return (pid_t)ret;
}

__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	sub $8, %rsp\n"
	"	call ps_vfork_enter\n"
	"	add $8, %rsp\n"
	"	pop %rsi\n"		/* the return address, kept in a register */
	"	mov $58, %eax\n"	/* SYS_vfork */
	"	syscall\n"
	"	push %rsi\n"
	"	test %rax, %rax\n"
	"	jz 1f\n"
	"	mov %rax, %rdi\n"
	"	jmp ps_vfork_leave\n"
	"1:	ret\n"
	".size vfork, .-vfork\n");
