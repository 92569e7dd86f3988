/* SPDX-License-Identifier: MIT */
/*
 * The environment a new image gets (exec family, posix_spawn, system, popen; exec.c runs
 * them). With PERFSHIM_FOLLOW=1 (the default) a child is traced whatever environment the
 * program passes: our library goes first in its LD_PRELOAD, the PERFSHIM_* settings this
 * process started with are added where the program's environment has none of its own, and
 * PERFSHIM_PARENT=<pid>:<trace path> tells the new image whose trace it continues. With
 * PERFSHIM_FOLLOW=0 nothing is added but PERFSHIM_PARENT and PERFSHIM_FOLLOW=0, so that a
 * child that still loads the library (LD_PRELOAD inherited) knows not to record.
 * Built without malloc, in memory the caller provides (a vfork child must not touch the
 * parent's heap): the program's strings are shared, not copied.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload/process.h"
#include "preload/tracefile.h"

#define PARENT_VAR "PERFSHIM_PARENT="
#define PRELOAD_VAR "LD_PRELOAD="
#define FOLLOW_OFF "PERFSHIM_FOLLOW=0"
#define MAX_SETTINGS 32

static char settings_buf[16384];	/* "PERFSHIM_X=value" strings, NUL-separated */
static const char *settings[MAX_SETTINGS];
static size_t nsettings;
static char lib_path[PATH_MAX];		/* this library, absolute; "" if unknown */
static dev_t lib_dev;
static ino_t lib_ino;
static int env_ready;

extern char **environ;

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Keep a copy of "NAME=value" (@name_len bytes of name, @val) in settings_buf. */
static void keep_setting(const char *name, size_t name_len, const char *val)
{
	static size_t used;
	size_t need = name_len + 1 + strlen(val) + 1;

	if (nsettings == MAX_SETTINGS || used + need > sizeof(settings_buf))
		return;
	memcpy(settings_buf + used, name, name_len);
	settings_buf[used + name_len] = '=';
	strcpy(settings_buf + used + name_len + 1, val);
	settings[nsettings++] = settings_buf + used;
	used += need;
}

/*
 * ps_env_init - note the settings and this library's path, once: in the constructor, or at
 * the first exec or spawn if that comes first. The output template is taken as init.c made
 * it absolute, so a child that starts elsewhere still writes next to its parent's trace.
 */
void ps_env_init(void)
{
	char **e;
	Dl_info info;
	struct stat st;

	/* the constructor does it, before the program runs threads (or a first exec does) */
	if (__atomic_load_n(&env_ready, __ATOMIC_ACQUIRE))
		return;
	for (e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');

		if (!eq || !starts(*e, "PERFSHIM_") || starts(*e, PARENT_VAR))
			continue;
		if (starts(*e, "PERFSHIM_OUTPUT=") && ps_cfg.output_explicit)
			keep_setting(*e, (size_t)(eq - *e), ps_cfg.output);
		else
			keep_setting(*e, (size_t)(eq - *e), eq + 1);
	}
	ps_guard_take(&ps_self, PS_GUARD_INTERNAL);	/* realpath may allocate: ours */
	/* an absolute name is used as it is: realpath would cost a readlink per component of
	 * it at every start, for a name the children's loader takes as well */
	if (dladdr((void *)ps_env_init, &info) && info.dli_fname &&
	    (info.dli_fname[0] == '/' && strlen(info.dli_fname) < sizeof(lib_path)
		     ? strcpy(lib_path, info.dli_fname)
		     : realpath(info.dli_fname, lib_path)) &&
	    stat(lib_path, &st) == 0) {
		lib_dev = st.st_dev;
		lib_ino = st.st_ino;
	} else {
		lib_path[0] = '\0';
	}
	ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
	__atomic_store_n(&env_ready, 1, __ATOMIC_RELEASE);
}

/* Whether the LD_PRELOAD value @v (spaces or colons between names) names this library. */
static int preloads_us(const char *v)
{
	char tok[PATH_MAX];
	struct stat st;
	size_t n;

	while (*v) {
		n = strcspn(v, ": ");
		if (n && n < sizeof(tok)) {
			memcpy(tok, v, n);
			tok[n] = '\0';
			if (!strcmp(tok, lib_path) ||
			    (strchr(tok, '/') && stat(tok, &st) == 0 && st.st_dev == lib_dev &&
			     st.st_ino == lib_ino))
				return 1;
		}
		v += n;
		v += strspn(v, ": ");
	}
	return 0;
}

/* What @envp lacks: computed once per call by env_plan. */
struct plan {
	size_t n;			/* entries of envp */
	const char *preload;		/* envp's last LD_PRELOAD= entry, or NULL */
	int add_preload;		/* our LD_PRELOAD replaces envp's entries */
	size_t strings;			/* bytes of strings built here */
};

/* Whether @envp has an entry for the variable of "NAME=value" @setting. */
static int has_var(char *const envp[], const char *setting)
{
	size_t len = (size_t)(strchr(setting, '=') - setting) + 1;

	for (; *envp; envp++)
		if (!strncmp(*envp, setting, len))
			return 1;
	return 0;
}

static void env_plan(char *const envp[], struct plan *p)
{
	memset(p, 0, sizeof(*p));
	for (; envp[p->n]; p->n++)
		if (starts(envp[p->n], PRELOAD_VAR))
			p->preload = envp[p->n];
	p->strings = sizeof(PARENT_VAR) + 24 + strlen(ps_trace_path);
	if (ps_cfg.follow && lib_path[0] &&
	    !(p->preload && preloads_us(p->preload + sizeof(PRELOAD_VAR) - 1))) {
		p->add_preload = 1;
		p->strings += sizeof(PRELOAD_VAR) + strlen(lib_path) + 1 +
			      (p->preload ? strlen(p->preload) : 0);
	}
}

/* ps_env_size - bytes of memory ps_env_build needs for @envp (a multiple of 8). */
size_t ps_env_size(char *const envp[])
{
	struct plan p;

	ps_env_init();
	env_plan(envp, &p);
	return ((p.n + nsettings + 4) * sizeof(char *) + p.strings + 7) & ~(size_t)7;
}

/*
 * ps_env_build - the new image's environment for @envp, in @mem (ps_env_size(@envp) bytes,
 * 8-aligned). Return: the array, NULL-terminated.
 */
char **ps_env_build(void *mem, char *const envp[])
{
	char **env = mem, *s;
	struct plan p;
	size_t i, j = 0;
	int n;

	ps_env_init();
	env_plan(envp, &p);
	s = (char *)(env + p.n + nsettings + 4);
	for (i = 0; i < p.n; i++) {
		if (starts(envp[i], PARENT_VAR) ||
		    (p.add_preload && starts(envp[i], PRELOAD_VAR)) ||
		    (!ps_cfg.follow && starts(envp[i], "PERFSHIM_FOLLOW=")))
			continue;
		env[j++] = envp[i];
	}
	if (p.add_preload) {
		const char *rest = p.preload ? p.preload + sizeof(PRELOAD_VAR) - 1 : "";

		env[j++] = s;
		s += sprintf(s, PRELOAD_VAR "%s%s%s", lib_path, *rest ? ":" : "", rest) + 1;
	}
	if (ps_cfg.follow) {
		for (i = 0; i < nsettings; i++)
			if (!has_var(envp, settings[i]))
				env[j++] = (char *)settings[i];
	} else {
		env[j++] = (char *)FOLLOW_OFF;
	}
	n = snprintf(s, sizeof(PARENT_VAR) + 24 + strlen(ps_trace_path), PARENT_VAR "%d:%s",
		     (int)ps_pid, ps_trace_path);
	if (n > 0)
		env[j++] = s;
	env[j] = NULL;
	return env;
}
