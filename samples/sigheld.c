// Signals that come while the program allocates and calls, so that under the shim many come
// inside its hooks and are held back until the hook ends (preload/signals.c): what each
// handler sees must be what it sees without the shim. Usage: sigheld PART [FILE], PART one
// of rt disarm chld timer oneshot nodefer threads fork restart. Prints what the handlers
// saw (no counts that vary); FILE gets "PART held N": the deliveries whose context was
// inside libperfshim.so, that is, held back and let in by the shim (0 without it; varies
// from run to run). The held signals are let in by preload/signals-held.c.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fenv.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define NOINL __attribute__((noinline))

static volatile int got, bad, held;
static volatile long sink;
static char altstack[65536];

/* The shim holds a signal back inside a hook and lets it in as that hook ends. */
static void note_where(void *ucv)
{
	ucontext_t *uc = ucv;
	Dl_info di;

	if (dladdr((void *)uc->uc_mcontext.gregs[REG_RIP], &di) && di.dli_fname &&
	    strstr(di.dli_fname, "libperfshim"))
		held++;
}

NOINL void touch(void *p, size_t n)
{
	memset(p, (int)n, n);
	sink += ((char *)p)[n - 1];
}

/* What the program does while signals come: allocations and calls. */
NOINL void busy(void)
{
	void *p[8];
	int i;

	for (i = 0; i < 8; i++) {
		p[i] = malloc(16 + 8 * i);
		touch(p[i], 16 + 8 * i);
	}
	for (i = 0; i < 8; i++)
		free(p[i]);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags, int masked)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	sigaction(sig, &sa, NULL);
}

/* A child that waits for a byte on @go, runs @fn(@arg) and exits. Return: its pid. */
static pid_t child(int *go, void (*fn)(pid_t, long), long arg)
{
	pid_t parent = getpid(), pid;
	char c;

	if (pipe(go) < 0)
		exit(3);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(4);
		fn(parent, arg);
		_exit(0);
	}
	close(go[0]);
	return pid;
}

static void start(int *go)
{
	if (write(go[1], "g", 1) != 1)
		exit(5);
	close(go[1]);
}

/* rt: 3000 SIGRTMIN from another process, with values, on the alternate stack */
#define RT_N 3000
static pid_t rt_sender;

static int rt_sig;		/* SIGRTMIN, or disarm's */

static void send_rt(pid_t to, long n)
{
	union sigval v;

	for (v.sival_int = 0; v.sival_int < n; v.sival_int++) {
		while (sigqueue(to, rt_sig, v) < 0)
			usleep(100);
		if (v.sival_int % 4 == 0)
			usleep(20);
	}
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;
	stack_t ss;
	char here;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	sigaltstack(NULL, &ss);
	if (si->si_value.sival_int != got || si->si_code != SI_QUEUE || si->si_pid != rt_sender ||
	    si->si_uid != getuid() || !sigismember(&cur, SIGRTMIN) ||
	    !sigismember(&cur, SIGUSR1) || !sigismember(&cur, SIGHUP) ||
	    sigismember(&((ucontext_t *)uc)->uc_sigmask, SIGRTMIN) ||
	    sigismember(&((ucontext_t *)uc)->uc_sigmask, SIGUSR1) ||
	    !sigismember(&((ucontext_t *)uc)->uc_sigmask, SIGHUP) || !(ss.ss_flags & SS_ONSTACK) ||
	    &here < altstack || &here >= altstack + sizeof(altstack) ||
	    fegetround() != FE_TONEAREST)	/* a handler starts with the default FP state */
		bad++;
	note_where(uc);
	got++;
}

static void part_rt(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	unsigned long long mask;
	sigset_t hup;
	int go[2];

	sigaltstack(&ss, NULL);
	install(SIGRTMIN, on_rt, SA_ONSTACK | SA_RESTART, SIGUSR1);
	rt_sig = SIGRTMIN;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);	/* the program's own mask, seen in the context */
	rt_sender = child(go, send_rt, RT_N);
	fesetround(FE_UPWARD);
	start(go);
	while (got < RT_N)
		busy();
	fesetround(FE_TONEAREST);
	waitpid(rt_sender, NULL, 0);
	if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, sizeof(mask)) != 0 ||
	    mask != 1ULL << (SIGHUP - 1))
		bad++;		/* the program's mask is its own again, nothing left blocked */
	printf("rt: %d signals in order, %d with a wrong siginfo, mask or stack\n", got, bad);
}

/*
 * disarm: 1500 SIGRTMIN+2 on an alternate stack set up with SS_AUTODISARM: the handler runs
 * on it, and sees it disarmed (SS_DISABLE) meanwhile; it is armed again after.
 */
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)	/* linux/signal.h */
#endif
#define DISARM_N 1500

static void on_disarm(int sig, siginfo_t *si, void *uc)
{
	stack_t ss;
	char here;

	sigaltstack(NULL, &ss);
	if (!(ss.ss_flags & SS_DISABLE) || &here < altstack ||
	    &here >= altstack + sizeof(altstack) || si->si_value.sival_int != got)
		bad++;
	note_where(uc);
	got++;
}

static void part_disarm(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = SS_AUTODISARM };
	int go[2];
	pid_t pid;

	if (sigaltstack(&ss, NULL) != 0)
		exit(3);
	install(SIGRTMIN + 2, on_disarm, SA_ONSTACK, 0);
	rt_sig = SIGRTMIN + 2;
	pid = child(go, send_rt, DISARM_N);
	start(go);
	while (got < DISARM_N)
		busy();
	waitpid(pid, NULL, 0);
	sigaltstack(NULL, &ss);
	printf("disarm: %d signals, %d not on the disarmed stack or out of order; after: %s\n", got,
	       bad, ss.ss_flags == (int)SS_AUTODISARM ? "armed" : "not armed");
}

/* chld: 40 children exit one after another; the handler reaps each */
#define CHLD_N 40
static volatile int reaped;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	int status, saved = errno;

	if (si->si_code != CLD_EXITED || si->si_status != si->si_pid % 100 ||
	    waitpid(si->si_pid, &status, WNOHANG) != si->si_pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != si->si_status)
		bad++;
	note_where(uc);
	reaped++;
	errno = saved;
}

static void exit_code(pid_t parent, long arg)
{
	for (int i = 0; i < 2000; i++)
		sink += i;
	_exit(getpid() % 100);
}

static void part_chld(void)
{
	int i, go[2];

	install(SIGCHLD, on_chld, SA_NOCLDSTOP | SA_RESTART, 0);
	for (i = 0; i < CHLD_N; i++) {
		child(go, exit_code, 0);
		start(go);
		while (reaped <= i)
			busy();
	}
	printf("chld: %d children reaped in the handler, %d with a wrong siginfo\n", reaped, bad);
}

/* timer: a 30 us POSIX timer on SIGRTMIN+1, 1500 signals */
#define TIMER_N 1500
static timer_t timer;
static int timer_cookie;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code != SI_TIMER || si->si_timerid != (int)(intptr_t)timer ||
	    si->si_value.sival_ptr != &timer_cookie || si->si_overrun < 0 ||
	    timer_getoverrun(timer) != si->si_overrun)
		bad++;
	note_where(uc);
	got++;
}

static void part_timer(void)
{
	struct sigevent ev;
	struct itimerspec its = { { 0, 30000 }, { 0, 30000 } };
	sigset_t set;

	install(SIGRTMIN + 1, on_timer, 0, 0);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 1;
	ev.sigev_value.sival_ptr = &timer_cookie;
	timer_create(CLOCK_MONOTONIC, &ev, &timer);
	timer_settime(timer, 0, &its, NULL);
	while (got < TIMER_N)
		busy();
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	timer_delete(timer);
	printf("timer: %d signals or more, %d with a wrong siginfo or overrun\n", TIMER_N, bad);
}

/* oneshot: 25 rounds of a SA_RESETHAND handler and one signal from another process */
#define ONESHOT_N 25

static void on_once(int sig, siginfo_t *si, void *uc)
{
	struct sigaction now;

	/* reset before the handler runs, as the kernel does */
	sigaction(sig, NULL, &now);
	if (now.sa_handler != SIG_DFL || si->si_code != SI_QUEUE)
		bad++;
	note_where(uc);
	got++;
}

static void send_one(pid_t to, long sig)
{
	union sigval v = { .sival_int = 1 };

	sigqueue(to, (int)sig, v);
}

static void part_oneshot(void)
{
	struct sigaction sa, now;
	pid_t pid;
	int i, go[2];

	for (i = 0; i < ONESHOT_N; i++) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_once;
		sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGUSR1);
		sigaction(SIGRTMIN + 3, &sa, NULL);
		pid = child(go, send_one, SIGRTMIN + 3);
		start(go);
		while (got <= i)
			busy();
		waitpid(pid, NULL, 0);
		sigaction(SIGRTMIN + 3, NULL, &now);
		if (now.sa_handler != SIG_DFL || now.sa_flags != (int)(sa.sa_flags | 0x04000000) ||
		    !sigismember(&now.sa_mask, SIGUSR1))
			bad++;
	}
	printf("oneshot: %d handler runs, %d wrong actions\n", got, bad);
}

/*
 * nodefer: 300 SIGRTMIN+7 with SA_NODEFER, each sent once the previous one was handled
 * (the handler answers through a pipe): the signal is not blocked in its own handler.
 */
#define NODEFER_N 300
static int ack[2];

static void on_nodefer(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	if (sigismember(&cur, sig) || !sigismember(&cur, SIGUSR1) ||
	    si->si_value.sival_int != got)
		bad++;
	note_where(uc);
	got++;
	if (write(ack[1], "a", 1) != 1)
		bad++;
}

static void send_acked(pid_t to, long n)
{
	union sigval v;
	char c;

	for (v.sival_int = 0; v.sival_int < n; v.sival_int++) {
		usleep(30);	/* the receiver is back at work, not in its handler's write */
		sigqueue(to, SIGRTMIN + 7, v);
		if (read(ack[0], &c, 1) != 1)
			_exit(7);
	}
}

static void part_nodefer(void)
{
	int go[2];
	pid_t pid;

	if (pipe(ack) < 0)
		exit(3);
	install(SIGRTMIN + 7, on_nodefer, SA_NODEFER, SIGUSR1);
	pid = child(go, send_acked, NODEFER_N);
	start(go);
	while (got < NODEFER_N)
		busy();
	waitpid(pid, NULL, 0);
	printf("nodefer: %d signals, %d blocked in their handler or out of order\n", got, bad);
}

/* threads: 3 threads allocate; 400 signals with values are queued to each */
#define TH_N 3
#define TH_SIGS 400
static pid_t tids[TH_N];
static volatile int th_got[TH_N], th_stop;

static void on_thread(int sig, siginfo_t *si, void *uc)
{
	int i = si->si_value.sival_int >> 16, k = si->si_value.sival_int & 0xffff;

	if (i < 0 || i >= TH_N || syscall(SYS_gettid) != tids[i] || k != th_got[i] ||
	    si->si_code != SI_QUEUE || si->si_pid != getpid())
		bad++;
	else
		th_got[i]++;
	note_where(uc);
}

static void *thread_main(void *arg)
{
	tids[(long)arg] = syscall(SYS_gettid);
	while (!th_stop)
		busy();
	return NULL;
}

static void part_threads(void)
{
	pthread_t th[TH_N];
	union sigval v;
	long i;
	int k, all;

	install(SIGRTMIN + 4, on_thread, 0, 0);
	for (i = 0; i < TH_N; i++)
		pthread_create(&th[i], NULL, thread_main, (void *)i);
	for (i = 0; i < TH_N; i++)
		while (!__atomic_load_n(&tids[i], __ATOMIC_ACQUIRE))
			usleep(100);
	for (k = 0; k < TH_SIGS; k++)
		for (i = 0; i < TH_N; i++) {
			v.sival_int = (int)(i << 16 | k);
			while (pthread_sigqueue(th[i], SIGRTMIN + 4, v) == EAGAIN)
				usleep(100);
			if (k % 8 == 0)
				usleep(10);
		}
	do {
		for (all = 1, i = 0; i < TH_N; i++)
			all &= th_got[i] == TH_SIGS;
		usleep(1000);
	} while (!all && !bad);
	th_stop = 1;
	for (i = 0; i < TH_N; i++)
		pthread_join(th[i], NULL);
	printf("threads: %d x %d signals to their thread in order, %d wrong\n", TH_N, TH_SIGS,
	       bad);
}

/*
 * fork: 1500 SIGRTMIN+6 from another process while this one forks 100 children that
 * allocate and exit: every signal is handled here once, and none in a child (a signal held
 * back in the parent when it forked is not the child's: pending signals are not inherited).
 */
#define FORK_N 1500

static void on_fork_sig(int sig, siginfo_t *si, void *uc)
{
	if (si->si_value.sival_int != got || si->si_code != SI_QUEUE)
		bad++;
	note_where(uc);
	got++;
}

static void send_fork_sigs(pid_t to, long n)
{
	union sigval v;

	for (v.sival_int = 0; v.sival_int < n; v.sival_int++) {
		while (sigqueue(to, SIGRTMIN + 6, v) < 0)
			usleep(100);
		usleep(20);
	}
}

static void part_fork(void)
{
	int i, status, go[2], forked = 0;
	pid_t sender, pid;

	install(SIGRTMIN + 6, on_fork_sig, SA_RESTART, 0);
	sender = child(go, send_fork_sigs, FORK_N);
	start(go);
	for (i = 0; got < FORK_N || forked < 100; i++) {
		busy();
		if (i % 50 || forked == 100)
			continue;
		pid = fork();
		if (pid == 0) {
			int before = got;

			for (i = 0; i < 200; i++)
				busy();
			_exit(got == before ? 0 : 1);
		}
		forked++;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	}
	waitpid(sender, NULL, 0);
	printf("fork: %d signals in order, %d children, %d wrong\n", got, forked, bad);
}

/*
 * restart: a read from a pipe, blocked, when a signal comes: with SA_RESTART it goes on and
 * returns the data, without it fails with EINTR. The signal is sent once the reader sleeps
 * in read (its /proc/PID/syscall says system call 0).
 */
static int data[2];

static void on_restart(int sig, siginfo_t *si, void *uc)
{
	got++;
}

static void signal_reader(pid_t reader, long sig)
{
	char path[64], buf[64];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)reader);
	for (;;) {
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n > 2 && buf[0] == '0' && buf[1] == ' ')
			break;
		usleep(500);
	}
	usleep(2000);
	kill(reader, (int)sig);
	usleep(20000);
	if (write(data[1], "x", 1) != 1)
		_exit(6);
}

static void part_restart(void)
{
	int flags[2] = { SA_RESTART, 0 }, i, go[2];
	char c;
	ssize_t n;
	pid_t pid;

	for (i = 0; i < 2; i++) {
		if (pipe(data) < 0)
			exit(3);
		install(SIGRTMIN + 5, on_restart, flags[i], 0);
		got = 0;
		pid = child(go, signal_reader, SIGRTMIN + 5);
		start(go);
		n = read(data[0], &c, 1);
		printf("restart: %s: read returned %zd (%s), handler ran %d times\n",
		       flags[i] ? "SA_RESTART" : "no SA_RESTART", n,
		       n < 0 ? strerror(errno) : "data", got);
		if (n < 0 && read(data[0], &c, 1) != 1)
			bad++;
		waitpid(pid, NULL, 0);
		close(data[0]);
		close(data[1]);
	}
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} parts[] = { { "rt", part_rt },	   { "disarm", part_disarm },
		      { "chld", part_chld },	   { "timer", part_timer },
		      { "oneshot", part_oneshot }, { "nodefer", part_nodefer },
		      { "threads", part_threads }, { "fork", part_fork },
		      { "restart", part_restart } };
	const char *want = argc > 1 ? argv[1] : "rt";
	FILE *f;
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (strcmp(want, parts[i].name))
			continue;
		parts[i].fn();
		if (argc > 2 && (f = fopen(argv[2], "w"))) {
			fprintf(f, "%s held %d\n", want, held);
			fclose(f);
		}
		return bad ? 1 : 0;
	}
	return 2;
}
