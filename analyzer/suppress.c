// SPDX-License-Identifier: MIT
/*
 * Leak suppressions: LeakSanitizer's file format (`leak:PATTERN` lines, `#` comments) plus a
 * short built-in list of glibc/loader allocations that stay live by design. Used by the
 * `leaks` report and mem_summarize (mem.c).
 *
 * A file rule suppresses a stack when its pattern matches the function name, the module path
 * or the source file of any frame (as LSan). Patterns: `*` matches any run of characters,
 * `^` anchors the start, `$` the end; without anchors a pattern matches anywhere (substring).
 *
 * Built-in rules look only at the stack's innermost frames that lie in system libraries
 * (module path under /lib, /usr/lib, or a libc/ld.so/libstdc++/libgcc_s basename): an
 * allocation that the C library, the loader or libstdc++ made for itself. As soon as a frame
 * of the program appears, the built-in rules stop looking, so a program's own leak in a
 * constructor that the loader ran (_dl_init -> ctor -> malloc) is never hidden by them.
 * The list was checked on this machine (glibc 2.36, gcc 12) with a program that prints with
 * printf/iostream and creates a thread: what stays live at exit is the stdout buffer
 * (_IO_file_doallocate), the new thread's DTV (allocate_dtv <- _dl_allocate_tls <-
 * pthread_create) and libstdc++'s emergency exception pool (libstdc++ <- call_init <-
 * _dl_init).
 */
#define PR_FMT "suppress"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/supp.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

enum supp_kind {
	SUPP_BUILTIN_TLS,
	SUPP_BUILTIN_STDIO,
	SUPP_BUILTIN_INIT,
	SUPP_BUILTIN_LOADER,
	SUPP_BUILTIN_LIBC,
	SUPP_FILE,
};

struct supp_rule {
	enum supp_kind kind;
	char *text;		/* what reports print */
	char *glob;		/* SUPP_FILE: pattern with the implicit '*' made explicit */
};

struct suppressions {
	struct supp_rule *rules;
	unsigned n;
};

static const struct {
	enum supp_kind kind;
	const char *text;
} builtin_rules[] = {
	{ SUPP_BUILTIN_TLS, "builtin: thread-local storage (_dl_allocate_tls, __tls_get_addr)" },
	{ SUPP_BUILTIN_STDIO, "builtin: stdio buffer (_IO_file_doallocate)" },
	{ SUPP_BUILTIN_INIT, "builtin: system library initializer run by the loader (_dl_init)" },
	{ SUPP_BUILTIN_LOADER, "builtin: dynamic loader (ld-linux, _dl_*)" },
	{ SUPP_BUILTIN_LIBC, "builtin: libc internal caches (locale, iconv, NSS)" },
};

/* Function names (prefix match) of each built-in rule, within the system frames. */
static const char *const tls_funcs[] = { "_dl_allocate_tls", "__tls_get_addr", "allocate_dtv",
	"_dl_resize_dtv", "_dl_update_slotinfo", "update_get_addr", "__libc_alloc_buffer_allocate",
	NULL };
static const char *const stdio_funcs[] = { "_IO_file_doallocate", "_IO_wfile_doallocate", NULL };
static const char *const init_funcs[] = { "_dl_init", NULL };
static const char *const loader_funcs[] = { "_dl_", "dl_open_worker", "dl_main", NULL };
static const char *const libc_funcs[] = { "_nl_", "__gconv", "__nss_", "nss_", "setlocale",
	"new_composite_name", "__libc_setlocale", NULL };

/*
 * supp_glob - LSan-style pattern match of @str. '*' matches any run of characters; '^' at
 * the start and '$' at the end anchor the pattern; otherwise it may match anywhere.
 * Unlike a greedy first-occurrence search, every way of matching is tried.
 */
bool supp_glob(const char *pat, const char *str)
{
	const char *p = pat, *s = str, *star = NULL, *mark = NULL;
	size_t plen = strlen(pat);
	bool anchor_start = plen && pat[0] == '^';
	bool anchor_end = plen && pat[plen - 1] == '$' && plen > (size_t)anchor_start;
	const char *pend = pat + plen - anchor_end;

	if (!str)
		return false;
	if (anchor_start)
		p++;
	if (!anchor_start) {		/* an implicit leading '*' */
		star = p - 1;
		mark = s;
	}
	while (*s) {
		if (p < pend && *p == '*') {
			star = p++;
			mark = s;
			continue;
		}
		if (p < pend && *p == *s) {
			p++;
			s++;
			continue;
		}
		if (p == pend && !anchor_end)
			return true;	/* an implicit trailing '*' */
		if (!star)
			return false;
		p = star + 1;
		s = ++mark;
	}
	while (p < pend && *p == '*')
		p++;
	return p == pend;
}

static void add_rule(struct suppressions *s, enum supp_kind kind, const char *text,
		     const char *glob)
{
	ARRAY_RESIZE(s->rules, (size_t)s->n + 1);
	s->rules[s->n].kind = kind;
	s->rules[s->n].text = xstrdup(text);
	s->rules[s->n].glob = glob ? xstrdup(glob) : NULL;
	s->n++;
}

static char *trim(char *p)
{
	char *e;

	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return p;
}

/*
 * open_regular - @path for reading, refused unless it is a regular file. O_NONBLOCK: opening
 * a FIFO must not wait for a writer. Return: the stream, or NULL after one error line.
 */
static FILE *open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	FILE *f;

	if (fd < 0) {
		__pr_log("error: ", "cannot read suppressions %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		__pr_log("error: ", "cannot read suppressions %s: not a regular file\n", path);
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		__pr_log("error: ", "cannot read suppressions %s: %s\n", path, strerror(errno));
		close(fd);
	}
	return f;
}

/* Read LSan rules from @path. Return: 0, or -1 after one error line. */
static int load_file(struct suppressions *s, const char *path)
{
	FILE *f = open_regular(path);
	char *line = NULL, *p, text[TRACE_MAX_STRING + 64];
	size_t cap = 0;
	unsigned lineno = 0;
	int ret = -1;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		p = trim(line);
		if (!*p || *p == '#')
			continue;
		if (strncmp(p, "leak:", 5) || !*trim(p + 5)) {
			__pr_log("error: ", "%s:%u: not a leak suppression (expected leak:PATTERN)\n",
				 path, lineno);
			goto out;
		}
		p = trim(p + 5);
		if (strlen(p) > TRACE_MAX_STRING) {
			__pr_log("error: ", "%s:%u: pattern too long\n", path, lineno);
			goto out;
		}
		snprintf(text, sizeof(text), "leak:%s", p);
		add_rule(s, SUPP_FILE, text, p);
	}
	if (ferror(f)) {
		__pr_log("error: ", "cannot read suppressions %s: %s\n", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(line);
	fclose(f);
	return ret;
}

/*
 * supp_load - the built-in rules (when @builtin) followed by the rules of the LSan-format
 * file @path (NULL: none). The caller frees the set with supp_free.
 * Return: the set, or NULL after one error line on stderr (unreadable file, bad line).
 */
struct suppressions *supp_load(const char *path, bool builtin)
{
	struct suppressions *s = xcalloc(1, sizeof(*s));
	size_t i;

	if (builtin)
		for (i = 0; i < sizeof(builtin_rules) / sizeof(builtin_rules[0]); i++)
			add_rule(s, builtin_rules[i].kind, builtin_rules[i].text, NULL);
	if (path && load_file(s, path) < 0) {
		supp_free(s);
		return NULL;
	}
	return s;
}

void supp_free(struct suppressions *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->rules[i].text);
		free(s->rules[i].glob);
	}
	free(s->rules);
	free(s);
}

unsigned supp_count(const struct suppressions *s)
{
	return s ? s->n : 0;
}

/* supp_rule - the text of rule @i as reports print it ("leak:PATTERN", "builtin: ..."). */
const char *supp_rule(const struct suppressions *s, unsigned i)
{
	return i < s->n ? s->rules[i].text : "?";
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* A module of the C runtime or a system library (see the file comment). */
static bool system_module(const char *path)
{
	static const char *const dirs[] = { "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", NULL };
	static const char *const bases[] = { "ld-linux", "ld64.so", "libc.so", "libc-",
		"libpthread", "libstdc++", "libgcc_s", "libm.so", "libdl.so", NULL };
	const char *b;
	int i;

	if (!path)
		return false;
	for (i = 0; dirs[i]; i++)
		if (!strncmp(path, dirs[i], strlen(dirs[i])))
			return true;
	b = base_name(path);
	for (i = 0; bases[i]; i++)
		if (!strncmp(b, bases[i], strlen(bases[i])))
			return true;
	return false;
}

static bool loader_module(const char *path)
{
	const char *b = path ? base_name(path) : "";

	return !strncmp(b, "ld-linux", 8) || !strncmp(b, "ld64.so", 7) || !strncmp(b, "ld.so", 5);
}

static bool name_in(const char *name, const char *const *list)
{
	int i;

	if (!name)
		return false;
	for (i = 0; list[i]; i++)
		if (!strncmp(name, list[i], strlen(list[i])))
			return true;
	return false;
}

/* Does built-in rule @kind claim the system frames @info[0..n)? */
static bool builtin_match(enum supp_kind kind, const struct sym_info *info, uint32_t n)
{
	const char *const *list = NULL;
	uint32_t i;

	switch (kind) {
	case SUPP_BUILTIN_TLS: list = tls_funcs; break;
	case SUPP_BUILTIN_STDIO: list = stdio_funcs; break;
	case SUPP_BUILTIN_INIT: list = init_funcs; break;
	case SUPP_BUILTIN_LOADER: list = loader_funcs; break;
	case SUPP_BUILTIN_LIBC: list = libc_funcs; break;
	case SUPP_FILE: return false;
	}
	for (i = 0; i < n; i++) {
		if (name_in(info[i].name, list))
			return true;
		/* a frame inside ld.so itself: the loader allocated, whatever the symbol */
		if (kind == SUPP_BUILTIN_LOADER && loader_module(info[i].module))
			return true;
	}
	return false;
}

static bool file_match(const char *glob, const struct sym_info *info, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (supp_glob(glob, info[i].name) || supp_glob(glob, info[i].module) ||
		    supp_glob(glob, info[i].file))
			return true;
	return false;
}

/* Path of the module frame @f was in, or NULL. No symbol files read. */
static const char *module_path(const struct trace *t, const struct trace_frame *f)
{
	return f->module < t->nmodules ? t->modules[f->module].path : NULL;
}

static bool have_file_rules(const struct suppressions *s)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (s->rules[i].kind == SUPP_FILE)
			return true;
	return false;
}

/*
 * supp_match - the first rule of @s that suppresses global stack @id of @t (symbolized
 * through @sym). Frames of the shim itself are not looked at. Built-in rules need only
 * names and modules; source files (DWARF lines, costly to load) are looked up only when
 * the set has rules from a file.
 * Return: the rule's index, or -1 when no rule matches (or @s is NULL).
 */
int supp_match(const struct suppressions *s, struct symbols *sym, const struct trace *t,
	       uint32_t id)
{
	struct trace_stack st;
	struct sym_info *info;
	bool files;
	uint32_t i, n = 0, nsys, cap;
	int ret = -1;

	if (!s || !s->n || !id)
		return -1;
	files = have_file_rules(s);
	st = trace_stack_get(t, id);
	cap = st.nframes + 1;
	info = xcalloc(cap, sizeof(*info));
	for (i = 0; i < st.nframes; i++) {
		const struct trace_frame *f = &st.frames[i];
		struct sym_frame chain[SYM_MAX_INLINE];
		struct sym_info *si;
		int k, nc;

		ARRAY_ROOM(info, cap, n + SYM_MAX_INLINE);
		si = &info[n];
		memset(si, 0, sizeof(*si));
		si->module = module_path(t, f);
		if (si->module && !strncmp(base_name(si->module), "libperfshim", 11))
			continue;
		if (files) {
			/*
			 * The functions inlined at the frame's address first (as LSan's symbolizer
			 * gives them): "leak:helper" also matches a helper the compiler inlined.
			 */
			struct sym_info r = { 0 };

			/* its module: the path as symbols know it (the exe's for the main one) */
			if (sym_resolve_frame(sym, f, &r) < 0)
				r.name = NULL;
			nc = sym_frames(sym, f, chain, SYM_MAX_INLINE);
			for (k = 0; k < nc - 1; k++, n++)
				info[n] = (struct sym_info){ .name = chain[k].name, .module = r.module,
							     .file = chain[k].file,
							     .line = chain[k].line };
			info[n] = r;
		} else {
			/* "module+0xOFF" for an unknown symbol matches no built-in name */
			si->name = sym_frame_name(sym, f);
		}
		n++;
	}
	for (nsys = 0; nsys < n && system_module(info[nsys].module); nsys++)
		;
	for (i = 0; i < s->n && ret < 0; i++) {
		if (s->rules[i].kind == SUPP_FILE ? file_match(s->rules[i].glob, info, n)
						  : builtin_match(s->rules[i].kind, info, nsys))
			ret = (int)i;
	}
	free(info);
	return ret;
}
