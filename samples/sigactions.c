// What sigaction() reports and how a handler is called, printed step by step: the run with
// the shim must print the same. Usage: sigactions views|vfork|fork|raw. "views" ends killed
// by SIGUSR1 (a one-shot handler's second signal); "fork" forks while a thread installs.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

sighandler_t bsd_signal(int sig, sighandler_t handler);
#define KERNEL_SA_RESTORER 0x04000000	/* the kernel's flag for sa_restorer */
/* the old calls are what is tested here */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static volatile int hits, depth, max_depth, nested_ok;
static char report[512];
static char early[128];

static void on_sig(int sig)
{
	hits++;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	hits++;
}

static const char *name_of(void *h)
{
	if (h == (void *)SIG_DFL)
		return "SIG_DFL";
	if (h == (void *)SIG_IGN)
		return "SIG_IGN";
	if (h == (void *)on_sig)
		return "on_sig";
	if (h == (void *)on_info)
		return "on_info";
	return "another";
}

/* The action of @sig as sigaction() reports it: handler, flags, the mask's signals < 32. */
static void show(int sig, const char *what)
{
	struct sigaction o;
	int s;

	if (sigaction(sig, NULL, &o) != 0) {
		printf("%-28s sigaction failed\n", what);
		return;
	}
	printf("%-28s %-8s flags=%#x mask=", what, name_of((void *)o.sa_handler), o.sa_flags);
	for (s = 1; s < 32; s++)
		if (sigismember(&o.sa_mask, s))
			printf("%d,", s);
	printf("\n");
}

/* The name of the object holding @pc (where a context or a backtrace points). */
static const char *object_of(void *pc)
{
	Dl_info di;
	const char *slash;

	if (!dladdr(pc, &di) || !di.dli_fname)
		return "?";
	slash = strrchr(di.dli_fname, '/');
	return slash ? slash + 1 : di.dli_fname;
}

/*
 * Installed without SA_SIGINFO but reading the context through the third argument, as old
 * code does: the kernel passes it whatever the flags (not the siginfo's contents, which it
 * fills in only for SA_SIGINFO). Also looks at the mask, the alternate stack and the frames
 * under it.
 */
static void on_three(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	sigset_t cur;
	stack_t ss;
	void *frames[4];
	int n = backtrace(frames, 4);

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	sigaltstack(NULL, &ss);
	snprintf(report, sizeof(report),
		 "sig=%d uc_mask(HUP,TERM,self)=%d%d%d mask(HUP,TERM,self)=%d%d%d "
		 "pc_in=%s onstack=%d caller_in=%s",
		 sig, sigismember(&uc->uc_sigmask, SIGHUP),
		 sigismember(&uc->uc_sigmask, SIGTERM), sigismember(&uc->uc_sigmask, sig),
		 sigismember(&cur, SIGHUP), sigismember(&cur, SIGTERM), sigismember(&cur, sig),
		 object_of((void *)uc->uc_mcontext.gregs[REG_RIP]), !!(ss.ss_flags & SS_ONSTACK),
		 n > 1 ? object_of(frames[1]) : "none");
}

/* SA_NODEFER: raising its own signal nests; without it the second waits for the first. */
static void on_nest(int sig)
{
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (hits++ == 0)
		raise(sig);
	depth--;
}

/* sigaction from a handler: replace itself, and see what it replaced. */
static void on_replace(int sig)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, &old);
	nested_ok = old.sa_handler == on_replace;
}

/*
 * Before any constructor, the shim's included (preinit_array): the shim may not have
 * started yet (its start is the first malloc), and the handler installed here must stay.
 */
static void before_constructors(int argc, char **argv, char **envp)
{
	struct sigaction o;

	signal(SIGXCPU, on_sig);
	sigaction(SIGUSR2, NULL, &o);
	snprintf(early, sizeof(early), "before constructors: SIGUSR2 %s",
		 name_of((void *)o.sa_handler));
}

__attribute__((section(".preinit_array"), used)) static void (*preinit)(int, char **,
								    char **) =
	before_constructors;

static void views(void)
{
	static char alt[65536];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt) };
	struct sigaction sa, old;
	sighandler_t prev;
	sigset_t hup, none;
	void *warm[2];

	backtrace(warm, 2);	/* libgcc's unwinder loaded now, not in a handler */
	memset(&sa, 0, sizeof(sa));
	printf("%s\n", early);
	show(SIGXCPU, "installed before constructors");
	hits = 0;
	raise(SIGXCPU);
	printf("its handler ran %d times\n", hits);
	show(SIGUSR2, "SIGUSR2 at start");
	show(SIGWINCH, "SIGWINCH at start");

	/* one-shot: reset to SIG_DFL at delivery, flags and mask kept */
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, &old);
	printf("old SIGUSR1: %s\n", name_of((void *)old.sa_handler));
	show(SIGUSR1, "one-shot installed");
	raise(SIGUSR1);
	printf("hits after one: %d\n", hits);
	show(SIGUSR1, "one-shot after a signal");

	/* the BSD and System V calls, with their exact flags and masks */
	prev = signal(SIGTERM, on_sig);
	printf("signal returned %s\n", name_of((void *)prev));
	show(SIGTERM, "signal");
	siginterrupt(SIGTERM, 1);
	show(SIGTERM, "siginterrupt 1");
	signal(SIGTERM, on_sig);
	show(SIGTERM, "signal after siginterrupt");
	siginterrupt(SIGTERM, 0);
	show(SIGTERM, "siginterrupt 0");
	prev = sysv_signal(SIGHUP, on_sig);
	printf("sysv_signal returned %s\n", name_of((void *)prev));
	show(SIGHUP, "sysv_signal");
	bsd_signal(SIGPIPE, on_sig);
	show(SIGPIPE, "bsd_signal");
	ssignal(SIGALRM, on_sig);
	show(SIGALRM, "ssignal");
	prev = sigset(SIGQUIT, on_sig);
	printf("sigset returned %s\n", name_of((void *)prev));
	show(SIGQUIT, "sigset");
	prev = sigset(SIGQUIT, SIG_HOLD);
	printf("sigset SIG_HOLD returned %s\n", name_of((void *)prev));
	prev = sigset(SIGQUIT, SIG_DFL);
	printf("sigset SIG_DFL returned %s\n",
	       prev == SIG_HOLD ? "SIG_HOLD" : name_of((void *)prev));

	/* round trips: SIG_IGN and back, a saved action put back, the pointer compared */
	prev = signal(SIGINT, SIG_IGN);
	printf("SIGINT was %s\n", name_of((void *)prev));
	signal(SIGINT, on_sig);
	prev = signal(SIGINT, SIG_IGN);
	printf("then %s\n", name_of((void *)prev));
	prev = signal(SIGINT, prev);
	printf("then %s\n", name_of((void *)prev));
	sigaction(SIGINT, NULL, &old);
	printf("SIGINT's handler is on_sig: %d\n", old.sa_handler == on_sig);
	sigaction(SIGINT, &old, NULL);
	show(SIGINT, "SIGINT put back");
	signal(SIGINT, SIG_DFL);
	show(SIGINT, "SIGINT default again");

	/* three arguments without SA_SIGINFO, on an alternate stack, SIGHUP blocked around it */
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = (sighandler_t)(void (*)(void))on_three;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGWINCH, &sa, NULL);
	show(SIGWINCH, "three arguments");
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, &none);
	raise(SIGWINCH);
	sigprocmask(SIG_SETMASK, &none, NULL);
	printf("%s\n", report);

	/* SA_NODEFER nests, the default defers */
	sa.sa_handler = on_nest;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGURG, &sa, NULL);
	hits = max_depth = 0;
	raise(SIGURG);
	printf("SA_NODEFER: %d handler calls, depth %d\n", hits, max_depth);
	sa.sa_flags = 0;
	sigaction(SIGURG, &sa, NULL);
	hits = max_depth = 0;
	raise(SIGURG);
	printf("deferred: %d handler calls, depth %d\n", hits, max_depth);

	/* a handler installed, the signal blocked and read from a signalfd: no handler runs */
	{
		struct signalfd_siginfo fdsi;
		sigset_t prof;
		int fd;

		signal(SIGPROF, on_sig);
		sigemptyset(&prof);
		sigaddset(&prof, SIGPROF);
		sigprocmask(SIG_BLOCK, &prof, NULL);
		hits = 0;
		raise(SIGPROF);
		fd = signalfd(-1, &prof, SFD_CLOEXEC);
		if (fd >= 0 && read(fd, &fdsi, sizeof(fdsi)) == sizeof(fdsi))
			printf("signalfd: signal %u code %d pid_is_mine %d, handler ran %d times\n",
			       fdsi.ssi_signo, fdsi.ssi_code, fdsi.ssi_pid == (unsigned)getpid(),
			       hits);
		if (fd >= 0)
			close(fd);
		sigprocmask(SIG_UNBLOCK, &prof, NULL);
	}

	/* sigaction called from a handler */
	signal(SIGCHLD, on_replace);
	raise(SIGCHLD);
	printf("replaced itself, saw itself: %d\n", nested_ok);
	show(SIGCHLD, "SIGCHLD replaced");

	/* the one-shot handler is gone: this kills the program (status 138) */
	fflush(stdout);
	raise(SIGUSR1);
	printf("not reached\n");
}

/* A vfork child's own choice before exec stays its own: the parent keeps its handler. */
static void vfork_child_actions(void)
{
	struct sigaction old;
	pid_t pid;
	int status;

	signal(SIGUSR1, on_sig);
	signal(SIGTERM, on_sig);
	pid = vfork();
	if (pid == 0) {
		signal(SIGUSR1, SIG_DFL);
		signal(SIGTERM, SIG_IGN);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("child exited %d\n", WEXITSTATUS(status));
	sigaction(SIGUSR1, NULL, &old);
	printf("parent's SIGUSR1: %s\n", name_of((void *)old.sa_handler));
	sigaction(SIGTERM, NULL, &old);
	printf("parent's SIGTERM: %s\n", name_of((void *)old.sa_handler));
	hits = 0;
	raise(SIGUSR1);
	raise(SIGTERM);
	printf("parent's handler ran %d times\n", hits);
}

static volatile int stop;

static void *installer(void *arg)
{
	while (!stop)
		signal(SIGUSR1, on_sig);
	return NULL;
}

/* fork while another thread is inside sigaction: every child can still install. */
static void fork_while_installing(void)
{
	pthread_t th;
	int i, ok = 0, status;
	pid_t pid;

	pthread_create(&th, NULL, installer, NULL);
	for (i = 0; i < 200; i++) {
		pid = fork();
		if (pid == 0) {
			signal(SIGUSR2, on_sig);
			raise(SIGUSR2);
			_exit(hits == 1 ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	stop = 1;
	pthread_join(th, NULL);
	printf("children that installed a handler: %d of 200\n", ok);
}

/* Installed behind libc's back: libc's sigaction reports it, and it runs. */
static void raw_install(void)
{
	struct sigaction sa, old;
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} k;

	sigaction(SIGUSR1, NULL, &sa);	/* glibc's restorer, to return through */
	memset(&k, 0, sizeof(k));
	k.handler = (void *)on_sig;
	k.flags = KERNEL_SA_RESTORER | SA_RESTART;
	k.restorer = (void *)sa.sa_restorer;
	if (!k.restorer) {
		signal(SIGUSR1, on_sig);	/* learn the restorer from an install */
		sigaction(SIGUSR1, NULL, &sa);
		k.restorer = (void *)sa.sa_restorer;
		signal(SIGUSR1, SIG_DFL);
	}
	syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, 8);
	show(SIGUSR1, "raw install");
	hits = 0;
	raise(SIGUSR1);
	printf("raw handler ran %d times\n", hits);
	signal(SIGUSR1, on_sig);
	sigaction(SIGUSR1, NULL, &old);
	printf("then through libc: %s\n", name_of((void *)old.sa_handler));
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "views";

	if (!strcmp(mode, "views"))
		views();
	else if (!strcmp(mode, "vfork"))
		vfork_child_actions();
	else if (!strcmp(mode, "fork"))
		fork_while_installing();
	else if (!strcmp(mode, "raw"))
		raw_install();
	else
		return 2;
	return 0;
}
