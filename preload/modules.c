/* SPDX-License-Identifier: MIT */
/*
 * Loaded modules: MODULE records for every object the loader maps (at start and after each
 * dlopen), UNLOAD records after dlclose, and the dlopen/dlmopen/dlclose wrappers that drive
 * them. docs/design.md "Modules, marks, names" explains the choices.
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/ids.h"
#include "preload/interpose.h"
#include "preload/process.h"

/*
 * One module we wrote a MODULE record for. The key is (load bias, path): the same file mapped
 * again at another address after a dlclose is a new module, and two objects never share a
 * bias. The path is kept as a 64-bit hash so that the table needs no string storage.
 */
struct mod_entry {
	uintptr_t base;			/* dlpi_addr */
	uintptr_t lo, hi;		/* range of its PT_LOAD segments */
	uint64_t path_hash;		/* FNV-1a of the recorded path */
	uint64_t seen;			/* generation of the last dl_iterate_phdr that saw it */
};

#define MOD_STATIC 256

static struct mod_entry mod_static[MOD_STATIC];
static struct mod_entry *mods = mod_static;	/* mod_static, or an mmap'd copy when grown */
static size_t nmods;
static size_t mods_cap = MOD_STATIC;
static uint64_t mods_gen;			/* bumped before every walk */
static pid_t mods_pid;				/* process the table describes */
static pthread_mutex_t mods_lock = PTHREAD_MUTEX_INITIALIZER;

/* The main program's path, from /proc/self/exe (read once per image). */
static char exe_path[PATH_MAX];
static size_t exe_len;

static uint64_t hash_path(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * Grow the table by doubling into a fresh mapping. mmap rather than malloc: this runs inside
 * the loader's dl_iterate_phdr lock, and the malloc hooks must not be entered from here.
 * Return: 0, or -1 when no memory (the module is then recorded again next time: harmless).
 */
static int grow(void)
{
	size_t ncap = mods_cap * 2;
	struct mod_entry *n = mmap(NULL, ncap * sizeof(*n), PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (n == MAP_FAILED)
		return -1;
	memcpy(n, mods, nmods * sizeof(*n));
	if (mods != mod_static)
		munmap(mods, mods_cap * sizeof(*n));
	mods = n;
	mods_cap = ncap;
	return 0;
}

static struct mod_entry *find(uintptr_t base, uint64_t h)
{
	size_t i;

	for (i = 0; i < nmods; i++)
		if (mods[i].base == base && mods[i].path_hash == h)
			return &mods[i];
	return NULL;
}

/* The main program's path: readlink with the raw syscall (no libc state, errno is the caller's). */
static void read_exe(void)
{
	long n = syscall(SYS_readlink, "/proc/self/exe", exe_path, sizeof(exe_path) - 1);

	exe_len = n > 0 ? (size_t)n : 0;
	exe_path[exe_len] = '\0';
}

/*
 * The GNU build-id of a module: the NT_GNU_BUILD_ID note in one of its PT_NOTE segments,
 * which are mapped (notes live in the first PT_LOAD). Return: its length, 0 when none.
 */
static size_t build_id(const struct dl_phdr_info *info, const uint8_t **id)
{
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const uint8_t *p, *end;
		size_t align;

		if (ph->p_type != PT_NOTE)
			continue;
		/* Notes are 4-byte aligned, or 8-byte in an 8-aligned segment (gABI). */
		align = ph->p_align == 8 ? 8 : 4;
		p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_filesz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t namesz = (nh->n_namesz + align - 1) & ~(align - 1);
			size_t descsz = (nh->n_descsz + align - 1) & ~(align - 1);
			const uint8_t *name = p + sizeof(*nh);
			const uint8_t *desc = name + namesz;

			if (desc + nh->n_descsz > end || desc < name)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0) {
				*id = desc;
				return nh->n_descsz;
			}
			p = desc + descsz;
		}
	}
	return 0;
}

/* The path recorded for a module: its loader name, the program's, or "[vdso]". */
static const char *module_path(const struct dl_phdr_info *info, size_t *len)
{
	uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	int i;

	if (vdso) {
		for (i = 0; i < info->dlpi_phnum; i++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

			if (ph->p_type == PT_LOAD && info->dlpi_addr + ph->p_vaddr == vdso) {
				*len = 6;
				return "[vdso]";
			}
		}
	}
	if (info->dlpi_name && info->dlpi_name[0]) {
		*len = strlen(info->dlpi_name);
		return info->dlpi_name;
	}
	if (!exe_len)
		read_exe();
	*len = exe_len;
	return exe_path;
}

struct walk {
	struct ps_thread *t;
	int stopped;			/* recording stopped: leave the rest unrecorded */
};

/*
 * Room for a record of @n bytes, which may exceed TRACE_MAX_RECORD (paths): in place when the
 * buffer has it, else through the slow path, which flushes. Return: cursor, or NULL.
 */
static uint8_t *reserve_big(struct ps_thread *t, size_t n)
{
	if (t->rec.pos < t->rec.limit && (size_t)(t->chunk.end - t->rec.pos) >= n)
		return t->rec.pos;
	return ps_reserve_slow(t, n);
}

/* The absolute range of @info's PT_LOAD segments in *lo, *hi. */
static void load_range(const struct dl_phdr_info *info, uintptr_t *plo, uintptr_t *phi)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (lo > hi)
		lo = hi = info->dlpi_addr;
	*plo = lo;
	*phi = hi;
}

/* Write one MODULE record. Return: 0, or -1 when recording stopped. */
static int emit_module(struct ps_thread *t, const struct dl_phdr_info *info, const char *path,
		       size_t plen, uintptr_t lo, uintptr_t hi)
{
	const uint8_t *id = NULL;
	size_t idlen = build_id(info, &id);
	uint8_t *p;

	if (idlen > TRACE_MAX_STRING)
		idlen = TRACE_MAX_STRING;
	if (plen > TRACE_MAX_STRING)
		plen = TRACE_MAX_STRING;

	/* op, 3 addresses, 2 strings with their lengths, dt: 10 bytes per varint at most */
	p = reserve_big(t, 1 + 3 * 10 + 10 + idlen + 10 + plen + 10);
	if (!p)
		return -1;
	/* after the reservation, which may have written the chunk before: this one has it */
	t->chunk.flags |= TRACE_CHUNK_MODULES;
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_MODULE));
	p = trace_put_varint(p, info->dlpi_addr);
	p = trace_put_varint(p, lo);
	p = trace_put_varint(p, hi);
	p = trace_put_str(p, (const char *)id, idlen);
	p = trace_put_str(p, path, plen);
	p = ps_put_dt(t, p, ps_now());
	ps_commit(t, p);
	return 0;
}

/* dl_iterate_phdr callback: record what is new, mark what is there. */
static int walk_record(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct walk *w = arg;
	struct mod_entry *e;
	const char *path;
	uintptr_t lo, hi;
	size_t plen;
	uint64_t h;

	path = module_path(info, &plen);
	h = hash_path(path, plen > TRACE_MAX_STRING ? TRACE_MAX_STRING : plen);
	e = find(info->dlpi_addr, h);
	if (e) {
		e->seen = mods_gen;
		return 0;
	}
	if (!w->t)
		return 0;
	load_range(info, &lo, &hi);
	if (emit_module(w->t, info, path, plen, lo, hi) < 0) {
		w->stopped = 1;
		return 1;
	}
	if (nmods == mods_cap && grow() < 0)
		return 0;
	mods[nmods].base = info->dlpi_addr;
	mods[nmods].lo = lo;
	mods[nmods].hi = hi;
	mods[nmods].path_hash = h;
	mods[nmods].seen = mods_gen;
	nmods++;
	return 0;
}

/*
 * ps_modules_forget - after fork, in the child (single-threaded): its trace is new, so no
 * module is recorded in it yet. The lock may have been held by a thread that does not exist
 * here: it is made anew.
 */
void ps_modules_forget(void)
{
	pthread_mutex_init(&mods_lock, NULL);
	nmods = 0;
	mods_pid = (pid_t)syscall(SYS_getpid);
}

/* Called with mods_lock held: forget a table that describes another process's trace. */
static void check_process(void)
{
	pid_t pid = (pid_t)syscall(SYS_getpid);

	if (mods_pid != pid) {
		nmods = 0;
		mods_pid = pid;
	}
}

/*
 * ps_modules_record - write a MODULE record for every loaded object not yet recorded in this
 * process's trace. Takes @t's guard and the module table's lock; calls dl_iterate_phdr, so it
 * must not run from inside the malloc hooks. Does nothing when @t is NULL; a module whose
 * record could not be written (recording stopped) stays unrecorded.
 */
void ps_modules_record(struct ps_thread *t)
{
	struct walk w = { .t = t };
	int saved = errno;

	if (!t)
		return;
	ps_guard_take(t, 1);
	pthread_mutex_lock(&mods_lock);
	check_process();
	mods_gen++;
	dl_iterate_phdr(walk_record, &w);
	pthread_mutex_unlock(&mods_lock);
	ps_guard_drop(t, 1);
	errno = saved;
}

/* dl_iterate_phdr callback that only marks the modules still there. */
static int walk_mark(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct mod_entry *e;
	const char *path;
	size_t plen;

	path = module_path(info, &plen);
	e = find(info->dlpi_addr, hash_path(path, plen > TRACE_MAX_STRING ? TRACE_MAX_STRING : plen));
	if (e)
		e->seen = mods_gen;
	return 0;
}

/*
 * Write UNLOAD for every recorded module that is no longer loaded, and forget it (a later
 * dlopen of the same file records it again).
 */
static void modules_unload(struct ps_thread *t)
{
	size_t i;
	uint8_t *p;

	ps_guard_take(t, 1);
	pthread_mutex_lock(&mods_lock);
	check_process();
	mods_gen++;
	dl_iterate_phdr(walk_mark, NULL);
	for (i = 0; i < nmods;) {
		if (mods[i].seen == mods_gen) {
			i++;
			continue;
		}
		p = ps_reserve(t, TRACE_MAX_RECORD);
		if (!p)
			break;
		t->chunk.flags |= TRACE_CHUNK_MODULES;
		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_UNLOAD));
		p = trace_put_varint(p, mods[i].base);
		p = ps_put_dt(t, p, ps_now());
		ps_commit(t, p);
		/* other code may be mapped there next: its unwind rules, function ids and stack
		 * nodes are not these */
		ps_stack_code_gone(mods[i].lo, mods[i].hi);
		ps_code_gone(mods[i].lo, mods[i].hi);
		mods[i] = mods[--nmods];
	}
	pthread_mutex_unlock(&mods_lock);
	ps_code_check(t);
	ps_guard_drop(t, 1);
}

/*
 * The wrappers. They resolve the next definition on first use (interpose.c, LAZY) and touch
 * nothing else of the caller's state: errno and the dlerror() result are what the real call
 * left. A missing one (said once) fails its call: NULL, or -1 from dlclose.
 */

/* The calling thread, when it records and is not inside a hook of ours. */
static struct ps_thread *self_if_recording(void)
{
	struct ps_thread *t;

	if (!ps_recording)
		return NULL;
	t = ps_thread_get();
	if (!t || t->guard)
		return NULL;
	return t;
}

static void after_open(void *handle)
{
	struct ps_thread *t;
	int saved = errno;

	if (handle && (t = self_if_recording()) != NULL)
		ps_modules_record(t);
	errno = saved;
}

/*
 * glibc loads some modules itself (iconv's gconv modules, NSS services) through an internal
 * dlopen that bypasses the wrapper. One more look at the end, before init.c's destructor
 * (priority 101, which runs after this one) writes the last chunks, records them, so that
 * addresses in them can still be named. The exec and _exit wrappers look once more as well.
 */
__attribute__((destructor(102))) static void ps_modules_fini(void)
{
	struct ps_thread *t;
	int saved = errno;

	if ((t = self_if_recording()) != NULL)
		ps_modules_record(t);
	errno = saved;
}

/*
 * The caller's search path. glibc's dlopen searches the DT_RPATH/DT_RUNPATH of the object
 * that called it (and expands $ORIGIN against that object), found from its return address.
 * Through this wrapper that object would be libperfshim.so, which has neither, so a program
 * that finds its plugins through its own RUNPATH would fail to load them. The caller's
 * search list (dlinfo RTLD_DI_SERINFO: RPATH, LD_LIBRARY_PATH, RUNPATH, system dirs, in the
 * loader's order) is walked here instead, and the first directory holding the file decides:
 * one of the caller's own directories is opened by full path, any other one by the bare
 * name (the same search from here, ld.so.cache included). Every dl* call made here succeeds
 * or is followed by the real dlopen, so dlerror() reports what the real call left.
 */
static Dl_serinfo *search_list(void *map)
{
	Dl_serinfo size, *si;

	if (dlinfo(map, RTLD_DI_SERINFOSIZE, &size) != 0 || size.dls_size > (1U << 20))
		return NULL;
	si = mmap(NULL, size.dls_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		  0);
	if (si == MAP_FAILED)
		return NULL;
	*si = size;
	if (dlinfo(map, RTLD_DI_SERINFO, si) != 0) {
		munmap(si, size.dls_size);
		return NULL;
	}
	return si;
}

static int in_list(const Dl_serinfo *si, const char *dir)
{
	unsigned i;

	for (i = 0; si && i < si->dls_cnt; i++)
		if (!strcmp(si->dls_serpath[i].dls_name, dir))
			return 1;
	return 0;
}

/* The real dlopen, seeing the errno the program had: our look-ups before it may fail. */
static void *real_open(int saved, const char *file, int flags)
{
	errno = saved;
	return ps_real_dlopen(file, flags);
}

static void *open_as_caller(const char *file, int flags, void *ra)
{
	struct link_map *caller = NULL, *self = NULL;
	Dl_serinfo *theirs = NULL, *ours = NULL;
	char path[PATH_MAX];
	Dl_info info;
	void *h = NULL;
	unsigned i;
	int saved = errno;

	if (!dladdr1(ra, &info, (void **)&caller, RTLD_DL_LINKMAP) || !caller ||
	    !dladdr1((void *)open_as_caller, &info, (void **)&self, RTLD_DL_LINKMAP) ||
	    caller == self)
		return real_open(saved, file, flags);
	if (strncmp(file, "$ORIGIN/", 8) == 0 || strncmp(file, "${ORIGIN}/", 10) == 0) {
		/* the DST names the caller's directory (dlinfo RTLD_DI_ORIGIN is not safe to ask:
		 * glibc fills it lazily and copies it unchecked) */
		const char *name = caller->l_name && caller->l_name[0] ? caller->l_name : NULL;
		const char *slash, *rest = strchr(file, '/');
		char cwd[PATH_MAX];
		int n;

		if (!name) {
			if (!exe_len)
				read_exe();
			name = exe_path;
		}
		slash = strrchr(name, '/');
		if (!slash)
			return real_open(saved, file, flags);
		if (name[0] == '/')
			n = snprintf(path, sizeof(path), "%.*s%s", (int)(slash - name), name, rest);
		else if (getcwd(cwd, sizeof(cwd)))
			n = snprintf(path, sizeof(path), "%s/%.*s%s", cwd, (int)(slash - name), name,
				     rest);
		else
			return real_open(saved, file, flags);
		return real_open(saved, n > 0 && (size_t)n < sizeof(path) ? path : file, flags);
	}
	if (strchr(file, '/'))
		return real_open(saved, file, flags);

	/* already loaded (by name or soname): the loader returns it without a search */
	h = real_open(saved, file, flags | RTLD_NOLOAD);
	if (h)
		return h;
	theirs = search_list(caller);
	ours = search_list(self);
	for (i = 0; theirs && i < theirs->dls_cnt; i++) {
		const char *dir = theirs->dls_serpath[i].dls_name;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path) ||
		    access(path, F_OK) != 0)
			continue;
		if (!in_list(ours, dir))
			h = real_open(saved, path, flags);
		break;
	}
	if (theirs)
		munmap(theirs, theirs->dls_size);
	if (ours)
		munmap(ours, ours->dls_size);
	/* not in one of the caller's own directories, or unusable there: the plain search */
	return h ? h : real_open(saved, file, flags);
}

/*
 * RTLD_DEEPBIND makes the library resolve its own and its dependencies' symbols first, which
 * binds it to libc's malloc instead of ours: its allocations would vanish from the trace and
 * its frees of our blocks would reach the real free. Dropping it is what other interposers do.
 */
PS_EXPORT void *dlopen(const char *file, int flags)
{
	void *h;

	if (unlikely(!ps_real(dlopen)))
		return NULL;
	flags &= ~RTLD_DEEPBIND;
	if (!file)
		return ps_real_dlopen(file, flags);
	h = open_as_caller(file, flags, __builtin_return_address(0));
	after_open(h);
	return h;
}

PS_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int flags)
{
	void *(*real)(Lmid_t, const char *, int) = ps_real(dlmopen);
	void *h;

	if (unlikely(!real))
		return NULL;
	h = real(lmid, file, flags & ~RTLD_DEEPBIND);
	after_open(h);
	return h;
}

PS_EXPORT int dlclose(void *handle)
{
	int (*real)(void *) = ps_real(dlclose);
	struct ps_thread *t;
	int ret, saved;

	if (unlikely(!real))
		return -1;
	ret = real(handle);
	saved = errno;
	if (ret == 0 && (t = self_if_recording()) != NULL)
		modules_unload(t);
	errno = saved;
	return ret;
}
