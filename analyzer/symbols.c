/* SPDX-License-Identifier: MIT */
/*
 * Symbols: trace addresses -> module, function name (demangled), source file:line, through
 * the module maps the trace recorded and the ELF files on disk (symbols-elf.c). Lazy and
 * cached: a module's tables are read when one of its addresses is first asked for, and every
 * answer is kept in a hash by address, so reports over millions of events pay one lookup per
 * distinct address.
 */
#define PR_FMT "symbols"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hmap.h"
#include "analyzer/symbols-priv.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/* libstdc++'s demangler (abi::__cxa_demangle); the analyzer links -lstdc++. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define SYM_DEBUG_ROOT "/usr/lib/debug"
#define NO_MOD TRACE_NO_MODULE	/* address outside every module */
#define ANY_MOD (UINT32_MAX - 1)	/* cache key: module chosen without a time */

/* cache entry flags */
#define CE_RA (1U << 1)			/* key: looked up as a return address */
#define CE_NAME (1U << 2)		/* name (and display) resolved */
#define CE_LINE (1U << 3)		/* file:line resolved */
#define CE_CHAIN (1U << 4)		/* inline chain (sym_frames) resolved */
#define CE_DECL (1U << 5)		/* definition (sym_func_decl) resolved */

/* One distinct file, shared by the modules recorded with its path. */
struct sym_fslot {
	struct sym_file f;
	bool loaded;			/* symf_load ran (successfully or not) */
	bool warned;			/* build-id mismatch reported */
};

struct sym_mod {
	const struct trace_module *m;
	struct sym_fslot *file;
	const char *path;		/* as recorded (the exe's for an unnamed main module) */
	const char *base;		/* basename, for "module+0xOFF" */
	const char *id;			/* build-id in hex (made on first use), "" if none */
};

/* One answer: key (addr, is_ra, module choice) -> what sym_resolve returns. */
struct sym_cent {
	uint64_t key;			/* cent_key of the next three (0: empty slot) */
	uint64_t addr;
	uint32_t key_mod;		/* ANY_MOD or the module chosen by time */
	uint32_t mod;			/* module index, or NO_MOD */
	uint32_t flags;			/* CE_* */
	unsigned line;
	const char *name;		/* demangled name or NULL */
	const char *display;		/* sym_name() */
	const char *file;
	const struct sym_frame *chain;	/* sym_frames' answer, nchain entries */
	uint32_t nchain;
	unsigned decl_line;		/* sym_func_decl's answer (0: unknown) */
	const char *decl_file;
};

HMAP_DEFINE(sym_cache, struct sym_cent, key)

/* Strings that live until sym_close: a list of blocks, bump-allocated. */
struct arena_blk {
	struct arena_blk *next;
	size_t used, size;
	char data[];
};

struct symbols {
	const struct trace *t;
	struct sym_mod *mods;
	uint32_t nmods;
	uint32_t *by_lo;		/* module indices sorted by lo (for binary search) */
	uint64_t *max_hi;		/* max_hi[k]: highest hi of by_lo[0..k] */
	bool overlap;			/* some modules share addresses (unload, then reload) */
	struct sym_fslot **files;
	uint32_t nfiles;
	struct sym_cache tab;		/* the answers */
	struct arena_blk *arena;
	const char *root;		/* debug directory */
	bool demangle;
	bool lines;			/* file:line and inline chains (not --no-lines) */
	uint64_t lookups, misses;	/* for -v statistics */
};

static bool lines_default = true;

static char *arena_alloc(struct symbols *s, size_t n)
{
	struct arena_blk *b = s->arena;
	char *p;

	if (b)			/* keep every block 8-aligned: sym_frames arrays live here too */
		b->used = (b->used + 7) & ~(size_t)7;
	if (!b || b->used > b->size || b->size - b->used < n) {
		size_t size = n > 60000 ? n : 65536 - sizeof(*b);

		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = s->arena;
		s->arena = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

static const char *arena_strndup(struct symbols *s, const char *str, size_t n)
{
	char *p = arena_alloc(s, n + 1);

	memcpy(p, str, n);
	p[n] = '\0';
	return p;
}

static const char *basename_of(const char *path)
{
	const char *sl = strrchr(path, '/');

	return sl && sl[1] ? sl + 1 : path;
}

static int lo_cmp(const void *a, const void *b, void *arg)
{
	const struct sym_mod *mods = arg;
	uint64_t x = mods[*(const uint32_t *)a].m->lo, y = mods[*(const uint32_t *)b].m->lo;

	return x < y ? -1 : x > y;
}

/**
 * sym_open - prepare symbolization of the addresses of trace @t (its modules[] must be
 * complete: call after a walk). Nothing is read from disk until an address is asked for.
 * The debug directory is /usr/lib/debug, or $PERFSHIM_DEBUG_ROOT when set.
 * Return: the handle (never NULL; dies on OOM). Release with sym_close.
 */
struct symbols *sym_open(const struct trace *t)
{
	struct symbols *s = xcalloc(1, sizeof(*s));
	const char *root = getenv("PERFSHIM_DEBUG_ROOT");
	struct ixmap fh = { 0 };
	uint32_t i;

	s->t = t;
	s->demangle = true;
	s->lines = lines_default;
	s->root = root && *root ? root : SYM_DEBUG_ROOT;
	s->nmods = t->nmodules;
	s->mods = xcalloc(s->nmods ? s->nmods : 1, sizeof(*s->mods));
	s->files = xcalloc(s->nmods ? s->nmods : 1, sizeof(*s->files));
	s->by_lo = xcalloc(s->nmods ? s->nmods : 1, sizeof(*s->by_lo));
	/*
	 * Files by path (a program that dlopens and dlcloses in a loop records one library
	 * thousands of times): indices into s->files by the path's key.
	 */
	for (i = 0; i < s->nmods; i++) {
		struct sym_mod *sm = &s->mods[i];
		const char *path = t->modules[i].path;
		struct ixmap_ent *e;
		uint64_t k;

		sm->m = &t->modules[i];
		/* dl_iterate_phdr names the main program "": use the PROCESS record's exe */
		if ((!path || !*path) && t->exe && *t->exe)
			path = t->exe;
		sm->path = path && *path ? path : NULL;
		sm->base = sm->path ? basename_of(sm->path) : "?";
		s->by_lo[i] = i;
		if (!sm->path)
			continue;
		k = hmap_key_str(sm->path);
		for (e = ixmap_get(&fh, k); e; e = ixmap_next(&fh, e))
			if (!strcmp(s->files[e->ix]->f.path, sm->path))
				break;
		if (!e) {
			s->files[s->nfiles] = xcalloc(1, sizeof(*s->files[0]));
			s->files[s->nfiles]->f.path = xstrdup(sm->path);
			e = ixmap_add(&fh, k);
			e->ix = s->nfiles++;
		}
		sm->file = s->files[e->ix];
	}
	ixmap_free(&fh);
	qsort_r(s->by_lo, s->nmods, sizeof(*s->by_lo), lo_cmp, s->mods);
	s->max_hi = xcalloc(s->nmods ? s->nmods : 1, sizeof(*s->max_hi));
	for (i = 0; i < s->nmods; i++) {
		uint64_t h = s->mods[s->by_lo[i]].m->hi;

		if (i && s->mods[s->by_lo[i]].m->lo < s->max_hi[i - 1])
			s->overlap = true;
		s->max_hi[i] = i && s->max_hi[i - 1] > h ? s->max_hi[i - 1] : h;
	}
	sym_cache_init(&s->tab, 1024);
	return s;
}

/* sym_close - free @s and every string it handed out. NULL is allowed. */
void sym_close(struct symbols *s)
{
	uint32_t i;

	if (!s)
		return;
	pr_dbg(1, "%llu lookups, %llu distinct addresses, %u files\n",
	       (unsigned long long)s->lookups, (unsigned long long)s->misses, s->nfiles);
	for (i = 0; i < s->nfiles; i++) {
		if (s->files[i]->loaded)
			symf_free(&s->files[i]->f);
		else
			free(s->files[i]->f.path);
		free(s->files[i]);
	}
	while (s->arena) {
		struct arena_blk *b = s->arena;

		s->arena = b->next;
		free(b);
	}
	free(s->files);
	free(s->mods);
	free(s->by_lo);
	free(s->max_hi);
	sym_cache_free(&s->tab);
	free(s);
}

void sym_set_demangle(struct symbols *s, bool on)
{
	s->demangle = on;
}

/* sym_set_lines - file:line and inlined frames from DWARF in sym_frames (on by default). */
void sym_set_lines(struct symbols *s, bool on)
{
	s->lines = on;
}

/* sym_set_lines_default - whether handles opened from now on read lines (--no-lines: off). */
void sym_set_lines_default(bool on)
{
	lines_default = on;
}

/*
 * The module holding @a: at time @ns when @timed (the reader's rule: trace_module_at), else
 * the one loaded last (the latest MODULE record wins where address ranges were reused).
 * Return: index or NO_MOD.
 */
static uint32_t find_module(const struct symbols *s, uint64_t a, bool timed, uint64_t ns)
{
	uint32_t best = NO_MOD;
	uint32_t lo = 0, hi = s->nmods, k;

	if (timed)
		return trace_module_pick(s->t->modules, s->by_lo, s->max_hi, s->nmods, s->overlap, a,
					 ns);

	/* k = how many modules start at or below a (in lo order) */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->mods[s->by_lo[mid]].m->lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	k = lo;
	if (!s->overlap)	/* disjoint ranges: only the last of them can hold a */
		return k && a < s->mods[s->by_lo[k - 1]].m->hi ? s->by_lo[k - 1] : NO_MOD;
	/*
	 * Reused ranges. Candidates start at or below a; walking down, stop once no earlier
	 * module reaches a (max_hi is the running maximum of hi in lo order). Among those
	 * holding a, the last loaded (the index is the load order).
	 */
	while (k-- > 0 && s->max_hi[k] > a) {
		uint32_t i = s->by_lo[k];

		if (a < s->mods[i].m->hi && (best == NO_MOD || i > best))
			best = i;
	}
	return best;
}

/* the cache key of (addr, module choice, is_ra): a hash, never 0 (entry_in compares) */
static uint64_t cent_key(uint64_t addr, uint32_t key_mod, bool is_ra)
{
	return hmap_key_u64(addr ^ ((uint64_t)key_mod << 40) ^
			    (is_ra ? 0x9E3779B97F4A7C15ULL : 0));
}

/*
 * The cache entry of (addr, is_ra, module choice), created with its module on a miss. The
 * module is @known when it is not ANY_MOD (the reader's answer for a function or frame),
 * else the one at time @ns when @timed, else the one loaded last.
 */
static struct sym_cent *entry_in(struct symbols *s, uint64_t addr, bool is_ra, bool timed,
				 uint64_t ns, uint32_t known)
{
	uint64_t a = is_ra && addr ? addr - 1 : addr;
	uint32_t key_mod = ANY_MOD, mod = NO_MOD;
	struct sym_cent *e;
	uint64_t k;

	s->lookups++;
	if (known != ANY_MOD && known != NO_MOD && known >= s->nmods)
		known = NO_MOD;		/* not one of this trace's modules */
	if (known != ANY_MOD) {
		mod = known;
		key_mod = mod;
	} else if (timed && s->overlap) {
		/* only here does the time change the answer: key by the module it picks */
		mod = find_module(s, a, true, ns);
		key_mod = mod;
	}
	k = cent_key(addr, key_mod, is_ra);
	for (e = sym_cache_get(&s->tab, k); e; e = sym_cache_next(&s->tab, e))
		if (e->addr == addr && e->key_mod == key_mod && !(e->flags & CE_RA) == !is_ra)
			return e;
	s->misses++;
	if (key_mod == ANY_MOD)
		mod = find_module(s, a, false, 0);
	e = sym_cache_add(&s->tab, k);
	*e = (struct sym_cent){ .key = k, .addr = addr, .key_mod = key_mod, .mod = mod,
				.flags = is_ra ? CE_RA : 0 };
	return e;
}

static struct sym_cent *entry(struct symbols *s, uint64_t addr, bool is_ra, bool timed,
			      uint64_t ns)
{
	return entry_in(s, addr, is_ra, timed, ns, ANY_MOD);
}

/*
 * Whether the build-id warning for @path was already given by this process: reports that
 * open their own struct symbols (summary, html) must not repeat it. Hashes of the paths,
 * in a fixed array (no allocation to leak at exit).
 */
static bool warned_before(const char *path)
{
	static uint64_t seen[256];
	static unsigned nseen;
	uint64_t h = hmap_key_str(path);
	unsigned i;

	for (i = 0; i < nseen; i++)
		if (seen[i] == h)
			return true;
	if (nseen < sizeof(seen) / sizeof(seen[0]))
		seen[nseen++] = h;
	return false;
}

/* Read module @mi's file on first use and check it is the one that was recorded. */
static struct sym_fslot *mod_file(struct symbols *s, uint32_t mi)
{
	struct sym_mod *sm = &s->mods[mi];
	struct sym_fslot *fs = sm->file;
	const struct trace_module *m = sm->m;
	uint32_t idlen;

	if (!fs)
		return NULL;
	idlen = m->build_id_len <= sizeof(m->build_id) ? m->build_id_len : 0;
	if (!fs->loaded) {
		fs->loaded = true;
		if (symf_load(&fs->f, s->root, m->build_id, idlen) < 0)
			pr_dbg(1, "%s: cannot read (%s); addresses in it stay module+offset\n",
			       fs->f.path, strerror(errno));
	}
	if (fs->f.elf && idlen && !fs->warned &&
	    (fs->f.build_id_len != idlen || memcmp(fs->f.build_id, m->build_id, idlen))) {
		/* the file was rebuilt or replaced since recording: names may be off */
		fs->warned = true;
		if (!warned_before(fs->f.path))
			pr_warn("%s: build-id differs from the recorded one (file changed since the "
				"trace was recorded); %s%s\n", fs->f.path,
				fs->f.dbg_only ? "names come from " : "its symbols may be wrong",
				fs->f.dbg_only ? fs->f.dbg_path : "");
	}
	return fs;
}

/*
 * gcc names a translation unit's static initializer and finalizer after the first symbol it
 * defines: _GLOBAL__sub_I__ZN3ABC3fooEv. __cxa_demangle takes only names that start with
 * _Z, so the mangled part is demangled on its own, as c++filt does with each name inside a
 * word: _GLOBAL__sub_I_ABC::foo(). Anything else stays as it is.
 */
static const char *static_init_name(struct symbols *s, const char *name, size_t n)
{
	static const char *const prefixes[] = { "_GLOBAL__sub_I_", "_GLOBAL__sub_D_" };
	char *dem, *full;
	const char *r;
	size_t i, pl;
	int status = -1;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		pl = strlen(prefixes[i]);
		if (n > pl + 2 && !strncmp(name, prefixes[i], pl) && name[pl] == '_' &&
		    name[pl + 1] == 'Z')
			break;
	}
	if (i == sizeof(prefixes) / sizeof(prefixes[0]))
		return arena_strndup(s, name, n);
	dem = __cxa_demangle(name + pl, NULL, NULL, &status);
	if (!dem || status != 0 || asprintf(&full, "%.*s%s", (int)pl, name, dem) < 0) {
		free(dem);
		return arena_strndup(s, name, n);
	}
	r = arena_strndup(s, full, strlen(full));
	free(full);
	free(dem);
	return r;
}

/* Display form of a raw symbol name: version suffix cut, C++ demangled. */
static const char *pretty_name(struct symbols *s, const char *raw)
{
	const char *at = strchr(raw + 1, '@');
	size_t n = at ? (size_t)(at - raw) : strlen(raw);
	char tmp[512], *dem;
	const char *name = raw;
	int status = -1;

	if (at) {
		if (n >= sizeof(tmp))
			n = sizeof(tmp) - 1;
		memcpy(tmp, raw, n);
		tmp[n] = '\0';
		name = tmp;
	}
	if (s->demangle && name[0] == '_' && name[1] == 'Z') {
		dem = __cxa_demangle(name, NULL, NULL, &status);
		if (dem && status == 0) {
			const char *r = arena_strndup(s, dem, strlen(dem));

			free(dem);
			return r;
		}
		free(dem);
	}
	if (s->demangle)
		return static_init_name(s, name, n);
	return arena_strndup(s, name, n);
}

static void resolve_name(struct symbols *s, struct sym_cent *e)
{
	uint64_t a = (e->flags & CE_RA) && e->addr ? e->addr - 1 : e->addr;
	char buf[64 + 4096];
	struct sym_ent *se = NULL;

	e->flags |= CE_NAME;
	if (e->mod != NO_MOD) {
		struct sym_mod *sm = &s->mods[e->mod];
		struct sym_fslot *fs = mod_file(s, e->mod);

		if (fs)
			se = symf_lookup(&fs->f, a - sm->m->base);
		if (se) {
			/* demangle once per symbol, not once per address inside it */
			if (!se->pretty || se->pretty_demangled != s->demangle) {
				se->pretty = pretty_name(s, se->name);
				se->pretty_demangled = s->demangle;
			}
			e->name = se->pretty;
			e->display = e->name;
			return;
		}
		snprintf(buf, sizeof(buf), "%s+0x%llx", sm->base,
			 (unsigned long long)(e->addr - sm->m->base));
	} else {
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)e->addr);
	}
	e->display = arena_strndup(s, buf, strlen(buf));
}

static void resolve_line(struct symbols *s, struct sym_cent *e)
{
	uint64_t a = (e->flags & CE_RA) && e->addr ? e->addr - 1 : e->addr;
	struct sym_fslot *fs;
	const char *file;
	unsigned line;

	e->flags |= CE_LINE;
	if (e->mod == NO_MOD || !(fs = mod_file(s, e->mod)))
		return;
	if (symf_line(&fs->f, a - s->mods[e->mod].m->base, &file, &line) == 0) {
		e->file = file;
		e->line = line;
	}
}

/* Module @mi's build-id in hex, "" when it has none. */
static const char *mod_id(struct symbols *s, uint32_t mi)
{
	struct sym_mod *sm = &s->mods[mi];
	uint32_t i, n = sm->m->build_id_len <= sizeof(sm->m->build_id) ? sm->m->build_id_len : 0;
	char *p;

	if (!sm->id) {
		p = arena_alloc(s, 2 * n + 1);
		for (i = 0; i < n; i++)
			snprintf(p + 2 * i, 3, "%02x", sm->m->build_id[i]);
		p[2 * n] = '\0';
		sm->id = p;
	}
	return sm->id;
}

static int fill(struct symbols *s, struct sym_cent *e, struct sym_info *out)
{
	if (!(e->flags & CE_NAME))
		resolve_name(s, e);
	if (!(e->flags & CE_LINE))
		resolve_line(s, e);
	out->name = e->name;
	out->module = e->mod != NO_MOD ? s->mods[e->mod].path : NULL;
	out->module_id = e->mod != NO_MOD && *mod_id(s, e->mod) ? mod_id(s, e->mod) : NULL;
	out->module_off = e->mod != NO_MOD ? e->addr - s->mods[e->mod].m->base : 0;
	out->file = e->file;
	out->line = e->line;
	return e->name ? 0 : -1;
}

/**
 * sym_resolve - symbolize @addr (see symbols.h): name, module, offset, file:line.
 * The module loaded last at @addr is used when ranges were reused (see sym_resolve_at).
 * Return: 0 when a name was found, -1 otherwise (@out still holds module and offset).
 */
int sym_resolve(struct symbols *s, uint64_t addr, bool is_ra, struct sym_info *out)
{
	return fill(s, entry(s, addr, is_ra, false, 0), out);
}

/**
 * sym_resolve_at - sym_resolve for an address seen at time @ns (ns since trace start): the
 * module loaded at that time is used. Return: as sym_resolve.
 */
int sym_resolve_at(struct symbols *s, uint64_t addr, bool is_ra, uint64_t ns,
		   struct sym_info *out)
{
	return fill(s, entry(s, addr, is_ra, true, ns), out);
}

static const char *name_of(struct symbols *s, struct sym_cent *e)
{
	if (!(e->flags & CE_NAME))
		resolve_name(s, e);
	return e->display;
}

/**
 * sym_name - the name reports print for @addr: the demangled function name, else
 * "module+0xOFF" (module basename, offset from its load bias), else "0xADDR".
 * Return: a string owned by @s (the same pointer for the same address).
 */
const char *sym_name(struct symbols *s, uint64_t addr, bool is_ra)
{
	return name_of(s, entry(s, addr, is_ra, false, 0));
}

/* sym_name_at - sym_name with the module chosen at time @ns (see sym_resolve_at). */
const char *sym_name_at(struct symbols *s, uint64_t addr, bool is_ra, uint64_t ns)
{
	return name_of(s, entry(s, addr, is_ra, true, ns));
}

/**
 * sym_module_name - basename of the module holding @addr, or "?" outside every module.
 * Does not read the module's file. Return: a string owned by @s or static.
 */
const char *sym_module_name(struct symbols *s, uint64_t addr)
{
	struct sym_cent *e = entry(s, addr, false, false, 0);

	return e->mod != NO_MOD ? s->mods[e->mod].base : "?";
}

/* The cache entry of function @func of the trace: its address in its module. */
static struct sym_cent *func_entry(struct symbols *s, uint32_t func)
{
	if (func >= s->t->nfuncs)
		return entry_in(s, 0, false, false, 0, NO_MOD);
	return entry_in(s, s->t->funcs[func], false, false, 0, s->t->func_module[func]);
}

/** sym_resolve_func - sym_resolve for function @func of the trace (see symbols.h). */
int sym_resolve_func(struct symbols *s, uint32_t func, struct sym_info *out)
{
	return fill(s, func_entry(s, func), out);
}

/** sym_func_name - sym_name for function @func of the trace. */
const char *sym_func_name(struct symbols *s, uint32_t func)
{
	return name_of(s, func_entry(s, func));
}

/** sym_func_module - basename of the module function @func was called in, or "?". */
const char *sym_func_module(struct symbols *s, uint32_t func)
{
	struct sym_cent *e = func_entry(s, func);

	return e->mod != NO_MOD ? s->mods[e->mod].base : "?";
}

/** sym_func_addr - the address of function @func (in the process that was traced). */
uint64_t sym_func_addr(struct symbols *s, uint32_t func)
{
	return func < s->t->nfuncs ? s->t->funcs[func] : 0;
}

/* The cache entry of a stack frame: its address in the module it was in. */
static struct sym_cent *frame_entry(struct symbols *s, const struct trace_frame *f)
{
	return entry_in(s, f->ip, f->is_ra, false, 0, f->module);
}

/** sym_resolve_frame - sym_resolve for a frame of a stack (trace_stack_get). */
int sym_resolve_frame(struct symbols *s, const struct trace_frame *f, struct sym_info *out)
{
	return fill(s, frame_entry(s, f), out);
}

/** sym_frame_name - sym_name for a frame of a stack, in the module it was in. */
const char *sym_frame_name(struct symbols *s, const struct trace_frame *f)
{
	return name_of(s, frame_entry(s, f));
}

/** sym_frame_module - basename of the module a frame was in, or "?". */
const char *sym_frame_module(struct symbols *s, const struct trace_frame *f)
{
	struct sym_cent *e = frame_entry(s, f);

	return e->mod != NO_MOD ? s->mods[e->mod].base : "?";
}

/* ---- frames with source lines and inlined functions ---- */

/*
 * Make e->chain: the inline chain symf_frames reads from DWARF, names demangled, the real
 * function named as sym_name names it; or that one frame alone.
 */
static void resolve_chain(struct symbols *s, struct sym_cent *e)
{
	uint64_t a = (e->flags & CE_RA) && e->addr ? e->addr - 1 : e->addr;
	struct symf_frame raw[SYM_MAX_INLINE];
	const char *mod = e->mod != NO_MOD ? s->mods[e->mod].base : NULL;
	struct sym_fslot *fs = NULL;
	struct sym_frame *v;
	int n = 0, i;

	e->flags |= CE_CHAIN;
	name_of(s, e);
	if (s->lines && e->mod != NO_MOD && (fs = mod_file(s, e->mod)))
		n = symf_frames(&fs->f, a - s->mods[e->mod].m->base, raw, SYM_MAX_INLINE);
	/*
	 * A function entry (a shadow-stack frame: which function, not where it called from):
	 * its definition's line, as `functions` gives it, rather than its first instruction's.
	 */
	if (fs && !(e->flags & CE_RA) && n <= 1 &&
	    symf_decl(&fs->f, a - s->mods[e->mod].m->base, &raw[0].file, &raw[0].line) == 0)
		n = 1;
	if (n > SYM_MAX_INLINE) {
		/* deeper than kept: the innermost ones, then the real function, its line unknown */
		n = SYM_MAX_INLINE;
		raw[n - 1] = (struct symf_frame){ NULL, NULL, 0 };
	}
	if (n < 1) {
		n = 1;
		raw[0] = (struct symf_frame){ NULL, NULL, 0 };
	}
	raw[n - 1].name = NULL;		/* the real function: the symbol table's name */
	v = (struct sym_frame *)(void *)arena_alloc(s, (size_t)n * sizeof(*v));
	for (i = 0; i < n; i++) {
		v[i] = (struct sym_frame){ .module = mod, .file = raw[i].file,
					   .line = raw[i].file ? raw[i].line : 0,
					   .inlined = i < n - 1 };
		if (i == n - 1)
			v[i].name = e->display;
		else if (raw[i].name)
			v[i].name = pretty_name(s, raw[i].name);
		else
			v[i].name = "(inlined)";
	}
	e->chain = v;
	e->nchain = (uint32_t)n;
}

static int frames_of(struct symbols *s, struct sym_cent *e, struct sym_frame *out, int max)
{
	int n, i;

	if (!(e->flags & CE_CHAIN))
		resolve_chain(s, e);
	if (max < 1)
		return 0;
	n = (int)e->nchain < max ? (int)e->nchain : max;
	for (i = 0; i < n - 1; i++)
		out[i] = e->chain[i];
	out[n - 1] = e->chain[e->nchain - 1];	/* the real function always ends the list */
	return n;
}

/**
 * sym_frames - frame @f of a stack with its inlined functions and source lines, innermost
 * first (see symbols.h). Return: how many entries of @out were filled (1..@max).
 */
int sym_frames(struct symbols *s, const struct trace_frame *f, struct sym_frame *out, int max)
{
	const char *name;
	int n;

	if (!f->site || !s->lines)
		return frames_of(s, frame_entry(s, f), out, max);
	/*
	 * An entry that made the stack's malloc call: the lines (and inlined functions) of the
	 * call's address, the name of the entry (the walk decided the call lies inside it).
	 */
	name = name_of(s, frame_entry(s, f));
	n = frames_of(s, entry_in(s, f->site, true, false, 0, f->module), out, max);
	if (n > 0)
		out[n - 1].name = name;
	return n;
}

/** sym_frames_addr - sym_frames for address @addr (the module loaded last there). */
int sym_frames_addr(struct symbols *s, uint64_t addr, bool is_ra, struct sym_frame *out,
		    int max)
{
	return frames_of(s, entry(s, addr, is_ra, false, 0), out, max);
}

/**
 * sym_func_decl - the definition of function @func of the trace: its DWARF decl_file and
 * decl_line. Return: 0 with *file (owned by @s) and *line, or -1 when unknown (no DWARF, or
 * lines off).
 */
int sym_func_decl(struct symbols *s, uint32_t func, const char **file, unsigned *line)
{
	struct sym_cent *e = func_entry(s, func);
	struct sym_fslot *fs;

	if (!s->lines)
		return -1;
	if (!(e->flags & CE_DECL)) {
		e->flags |= CE_DECL;
		if (e->mod != NO_MOD && (fs = mod_file(s, e->mod)) &&
		    symf_decl(&fs->f, e->addr - s->mods[e->mod].m->base, &e->decl_file,
			      &e->decl_line) < 0)
			e->decl_file = NULL;
	}
	if (!e->decl_file)
		return -1;
	*file = e->decl_file;
	*line = e->decl_line;
	return 0;
}
