/* SPDX-License-Identifier: MIT */
/*
 * Symbol tables of one ELF file on disk: .symtab and .dynsym (also those of a separate debug
 * file), the debug file found by build-id, .gnu_debuglink (CRC checked) or a debuginfod
 * server; its DWARF is read by symbols-dwarf.c. Damaged or foreign files give "no symbols", never a crash.
 * symbols.c maps trace addresses to these files; docs/design.md ("Analyzer") has the picture.
 */
#define PR_FMT "symbols"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/debuginfod.h>
#include <stdio.h>

#include "analyzer/symbols-priv.h"
#include "analyzer/util.h"

/*
 * Symbol ranks when several symbols start at one address (aliases): a typed function beats a
 * label, a sized one an unsized one, global beats weak beats local.
 */
#define RANK_FUNC 8
#define RANK_SIZED 4

/*
 * Descriptors kept open for lazy reads. Past SYMF_MAX_FDS (a trace touching hundreds of
 * libraries) a file is read into memory whole and its descriptor closed, so that analysis
 * never fails with EMFILE against the usual limit of 1024.
 */
#define SYMF_MAX_FDS 200
static unsigned open_fds;

/* Open @path read-only as an ELF (regular files only). Return: the Elf, or NULL (fd closed). */
static Elf *elf_open_file(const char *path, int *fdp)
{
	struct stat st;
	GElf_Ehdr eh;
	Elf *elf;
	int fd;

	*fdp = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	/* a FIFO, a device or a directory at the recorded path is not the module */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto fail;
	/*
	 * ELF_C_READ, not ELF_C_READ_MMAP: libelf then reads what it needs with pread and checks
	 * every section against the file size, so a file truncated (or rewritten) while we
	 * work cannot SIGBUS us through a stale mapping.
	 */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		goto fail;
	/* only loadable images: a relocatable .o (or a core) at the path has no vaddrs to map */
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
		elf_end(elf);
		goto fail;
	}
	if (open_fds >= SYMF_MAX_FDS && elf_cntl(elf, ELF_C_FDREAD) == 0) {
		elf_cntl(elf, ELF_C_FDDONE);
		close(fd);
		return elf;
	}
	open_fds++;
	*fdp = fd;
	return elf;
fail:
	close(fd);
	return NULL;
}

static void elf_close_file(Elf **elf, int *fd)
{
	if (*elf)
		elf_end(*elf);
	if (*fd >= 0) {
		close(*fd);
		open_fds--;
	}
	*elf = NULL;
	*fd = -1;
}

/* Build-id note of @elf: length (0 if none), @id pointing into libelf's data. */
static size_t elf_build_id(Elf *elf, const uint8_t **id)
{
	const void *p = NULL;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &p);

	if (n <= 0 || !p)
		return 0;
	*id = p;
	return (size_t)n;
}

static bool same_id(Elf *elf, const uint8_t *id, size_t len)
{
	const uint8_t *mine = NULL;

	return elf_build_id(elf, &mine) == len && !memcmp(mine, id, len);
}

static bool elf_has_section(Elf *elf, uint32_t type)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return true;
	}
	return false;
}

/* Whether @elf carries DWARF of its own (a .debug_info section with contents). */
static bool has_dwarf(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    (n = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    (!strcmp(n, ".debug_info") || !strcmp(n, ".zdebug_info")))
			return true;
	}
	return false;
}

/* ---- symbol tables ---- */

struct raw_sym {
	uint64_t addr, end;		/* ELF vaddr range; end == addr: size unknown yet */
	uint64_t secend;		/* end of its section (cap for unsized symbols) */
	const char *name;		/* in libelf's string table data */
	unsigned rank;
};

static unsigned sym_rank(const GElf_Sym *sym, bool func)
{
	unsigned r = 0;

	if (func)
		r += RANK_FUNC;
	if (sym->st_size)
		r += RANK_SIZED;
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
		r += 2;
		break;
	case STB_WEAK:
		r += 1;
		break;
	default:
		break;
	}
	return r;
}

/* Append the code symbols of one SHT_SYMTAB/SHT_DYNSYM section to @v. */
static void read_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct raw_sym **v,
			size_t *n, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t entsz = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	size_t i, count;

	if (!data || !entsz || !data->d_buf)
		return;
	count = data->d_size / entsz;
	for (i = 1; i < count; i++) {
		GElf_Sym sym;
		GElf_Shdr ss;
		Elf_Scn *sec;
		const char *name;
		bool func;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE || !sym.st_value)
			continue;
		/* only code: a label in .data is not a function */
		sec = elf_getscn(elf, sym.st_shndx);
		if (!sec || !gelf_getshdr(sec, &ss) || !(ss.sh_flags & SHF_EXECINSTR))
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name || name[0] == '$' || !strncmp(name, ".L", 2))
			continue;
		func = type != STT_NOTYPE;
		ARRAY_ROOM(*v, *cap, *n);
		(*v)[*n] = (struct raw_sym){
			.addr = sym.st_value,
			.end = sym.st_value + sym.st_size,
			.secend = ss.sh_addr + ss.sh_size,
			.name = name,
			.rank = sym_rank(&sym, func),
		};
		if ((*v)[*n].end < (*v)[*n].addr) /* damaged size */
			(*v)[*n].end = (*v)[*n].addr;
		if ((*v)[*n].secend <= (*v)[*n].addr)
			(*v)[*n].secend = UINT64_MAX;
		(*n)++;
	}
}

static int raw_cmp(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	/* prefer the name with fewer leading underscores (malloc over __libc_malloc) */
	if ((x->name[0] == '_') != (y->name[0] == '_'))
		return x->name[0] == '_' ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void collect_syms(Elf *elf, uint32_t type, struct raw_sym **v, size_t *n, size_t *cap)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			read_symtab(elf, scn, &sh, v, n, cap);
	}
}

/*
 * Sort, keep one symbol per address, give unsized symbols the range up to the next symbol
 * (or their section's end), and drop labels that fall inside a sized function (local
 * labels of hand-written assembly would otherwise hide the function they are in).
 */
static void finish_table(struct sym_file *f, struct raw_sym *v, size_t n)
{
	size_t i, k = 0;
	uint64_t cover = 0;		/* end of the last sized symbol kept */

	if (n)
		qsort(v, n, sizeof(*v), raw_cmp);
	for (i = 0; i < n; i++) {
		if (k && v[k - 1].addr == v[i].addr)
			continue;
		if (v[i].end == v[i].addr && v[i].addr < cover)
			continue;
		v[k++] = v[i];
		if (v[i].end > cover)
			cover = v[i].end;
	}
	f->syms = xcalloc(k ? k : 1, sizeof(*f->syms));
	for (i = 0; i < k; i++) {
		uint64_t end = v[i].end;

		if (end == v[i].addr) {
			end = i + 1 < k ? v[i + 1].addr : v[i].secend;
			if (end > v[i].secend)
				end = v[i].secend;
			if (end == UINT64_MAX || end <= v[i].addr)
				end = v[i].addr + 1;
		}
		f->syms[i] = (struct sym_ent){ .addr = v[i].addr, .end = end, .name = v[i].name };
	}
	f->nsyms = k;
}

/* ---- separate debug files ---- */

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		for (c = i, j = 0; j < 8; j++)
			c = c & 1 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* CRC-32 (as in zlib and .gnu_debuglink) of the file at @fd. Return: 0, or -1 on read error. */
static int file_crc32(int fd, uint32_t *out)
{
	static uint8_t buf[1 << 16];
	uint32_t c = 0xFFFFFFFFU;
	off_t off = 0;
	ssize_t r;

	if (!crc_table[1])
		crc_init();
	while ((r = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (ssize_t i = 0; i < r; i++)
			c = crc_table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
		off += r;
	}
	if (r < 0)
		return -1;
	*out = c ^ 0xFFFFFFFFU;
	return 0;
}

/* Try @path as the debug file of @f: it must be ELF and pass the check (build-id or CRC). */
static bool try_debug(struct sym_file *f, const char *path, const uint8_t *id, size_t idlen,
		      bool use_crc, uint32_t crc)
{
	const uint8_t *did;
	uint32_t c = 0;
	size_t n;
	int fd;
	Elf *elf;

	if (!strcmp(path, f->path))
		return false;
	elf = elf_open_file(path, &fd);
	if (!elf)
		return false;
	if (idlen) {
		n = elf_build_id(elf, &did);
		if (n != idlen || memcmp(did, id, n)) {
			pr_dbg(1, "%s: build-id differs from %s, not used\n", path, f->path);
			goto no;
		}
	}
	if (use_crc && (file_crc32(fd, &c) < 0 || c != crc)) {
		pr_dbg(1, "%s: CRC %08x, debuglink of %s wants %08x: not used\n", path, c,
		       f->path, crc);
		goto no;
	}
	f->dbg_elf = elf;
	f->dbg_fd = fd;
	f->dbg_path = xstrdup(path);
	pr_dbg(2, "%s: debug info from %s\n", f->path, path);
	return true;
no:
	elf_close_file(&elf, &fd);
	return false;
}

/* libdebuginfod's entry points, from dlopen (see debuginfod) */
static int (*find_debuginfo_fn)(debuginfod_client *, const unsigned char *, int, char **);

/*
 * The debuginfod client, made on first use and only when DEBUGINFOD_URLS names a server (the
 * library itself would do nothing without it, but an unset variable must not even cost the
 * client's set-up). The library is opened then too: linked, it and the 28 libraries it
 * needs (curl, TLS, Kerberos, LDAP) were loaded and relocated at every start, most of what
 * starting the analyzer cost. It lives until exit: one per process, like its cache.
 */
static debuginfod_client *debuginfod(void)
{
	static debuginfod_client *client;
	static bool tried;
	const char *urls = getenv("DEBUGINFOD_URLS");
	debuginfod_client *(*begin)(void) = NULL;
	void *lib;

	if (!tried) {
		tried = true;
		if (urls && *urls && (lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL))) {
			*(void **)&begin = dlsym(lib, "debuginfod_begin");
			*(void **)&find_debuginfo_fn = dlsym(lib, "debuginfod_find_debuginfo");
		}
		if (begin && find_debuginfo_fn)
			client = begin();
		if (urls && *urls && !client)
			pr_dbg(1, "debuginfod: cannot start the client\n");
	}
	return client;
}

/*
 * Ask the DEBUGINFOD_URLS servers for the debug file of build-id @id (the client caches it
 * under $DEBUGINFOD_CACHE_PATH, by default ~/.cache/debuginfod_client) and try it.
 */
static bool find_debuginfod(struct sym_file *f, const uint8_t *id, size_t idlen)
{
	debuginfod_client *c = debuginfod();
	char *path = NULL;
	bool ok;
	int fd;

	if (!c || idlen < 2)
		return false;
	fd = find_debuginfo_fn(c, id, (int)idlen, &path);
	if (fd < 0) {
		pr_dbg(1, "%s: debuginfod: %s\n", f->path, strerror(-fd));
		return false;
	}
	close(fd);
	ok = try_debug(f, path, id, idlen, false, 0);
	if (ok)
		pr_dbg(1, "%s: debug info from debuginfod (%s)\n", f->path, path);
	free(path);
	return ok;
}

/*
 * Find the separate debug file: ROOT/.build-id/xx/rest.debug (by the recorded build-id, then
 * the file's), then the .gnu_debuglink name next to the file, in .debug/ beside it and under
 * ROOT/<dir>/ (gdb's order); last, when DEBUGINFOD_URLS is set, a debuginfod server by
 * build-id. Only a file without DWARF of its own asks the network.
 */
static void find_debug(struct sym_file *f, const char *root, const uint8_t *rec_id,
		       size_t rec_len)
{
	char path[PATH_MAX * 2], dir[PATH_MAX];
	const uint8_t *ids[2] = { rec_id, NULL };
	size_t lens[2] = { rec_len, 0 }, i, j;
	const char *link = NULL, *slash;
	GElf_Word crc = 0;

	if (f->elf)
		lens[1] = elf_build_id(f->elf, &ids[1]);
	for (i = 0; i < 2; i++) {
		int len;

		if (lens[i] < 2 || (i == 1 && lens[0] == lens[1] && !memcmp(ids[0], ids[1], lens[1])))
			continue;
		len = snprintf(path, sizeof(path), "%s/.build-id/%02x/", root, ids[i][0]);
		for (j = 1; j < lens[i] && len < (int)sizeof(path) - 16; j++)
			len += snprintf(path + len, sizeof(path) - len, "%02x", ids[i][j]);
		snprintf(path + len, sizeof(path) - len, ".debug");
		if (try_debug(f, path, ids[i], lens[i], false, 0))
			return;
	}
	if (!f->elf || !(link = dwelf_elf_gnu_debuglink(f->elf, &crc)) || !*link ||
	    strchr(link, '/'))
		goto net;
	slash = strrchr(f->path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - f->path), f->path);
	else
		snprintf(dir, sizeof(dir), ".");
	snprintf(path, sizeof(path), "%s/%s", dir, link);
	if (try_debug(f, path, NULL, 0, true, crc))
		return;
	snprintf(path, sizeof(path), "%s/.debug/%s", dir, link);
	if (try_debug(f, path, NULL, 0, true, crc))
		return;
	snprintf(path, sizeof(path), "%s%s%s/%s", root, dir[0] == '/' ? "" : "/", dir, link);
	if (try_debug(f, path, NULL, 0, true, crc))
		return;
net:
	if (f->elf && has_dwarf(f->elf))
		return;
	for (i = 0; i < 2; i++)
		if (lens[i] >= 2 && find_debuginfod(f, ids[i], lens[i]))
			return;
}

/*
 * The vDSO has no file: when the module is one ("[vdso]", "linux-vdso.so.1") and this process's
 * own vDSO carries the recorded build-id (the trace comes from this kernel), read that copy.
 */
static bool is_vdso(const char *path)
{
	return !strcmp(path, "[vdso]") || !strncmp(path, "linux-vdso.so", 13) ||
	       !strncmp(path, "linux-gate.so", 13);
}

static void open_own_vdso(struct sym_file *f, const uint8_t *rec_id, size_t rec_len)
{
	const uint8_t *img = (const uint8_t *)getauxval(AT_SYSINFO_EHDR), *id = NULL;
	const GElf_Ehdr *eh = (const GElf_Ehdr *)img;
	size_t size;

	if (!img || memcmp(img, ELFMAG, SELFMAG) || img[EI_CLASS] != ELFCLASS64)
		return;
	/* the section headers come last in the image: they bound its size */
	size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	if (size < sizeof(*eh) || size > (1U << 20))
		return;
	f->mem = xmalloc(size);
	memcpy(f->mem, img, size);
	f->elf = elf_memory(f->mem, size);
	if (f->elf && elf_kind(f->elf) == ELF_K_ELF && rec_len &&
	    elf_build_id(f->elf, &id) == rec_len && !memcmp(id, rec_id, rec_len))
		return;
	if (f->elf && !rec_len)
		return;
	/* another kernel's vDSO: module+offset rather than wrong names */
	if (f->elf)
		elf_end(f->elf);
	f->elf = NULL;
	free(f->mem);
	f->mem = NULL;
}

/**
 * symf_load - open the ELF file of @f (and its debug file) and read its symbol tables.
 * @f: the file; f->path set, the rest zeroed by the caller
 * @root: debug directory (normally /usr/lib/debug)
 * @rec_id, @rec_len: build-id recorded in the trace (may be empty)
 * Afterwards f->syms holds every code symbol, sorted (possibly none: missing, damaged, foreign
 * or stripped files). Return: 0 when the file itself was read, -1 when it could not be opened.
 */
int symf_load(struct sym_file *f, const char *root, const uint8_t *rec_id, size_t rec_len)
{
	struct raw_sym *v = NULL;
	size_t n = 0, cap = 0;
	static bool elf_ready;

	if (!elf_ready) {
		elf_version(EV_CURRENT);
		elf_ready = true;
	}
	f->fd = f->dbg_fd = -1;
	f->elf = elf_open_file(f->path, &f->fd);
	if (!f->elf && is_vdso(f->path))
		open_own_vdso(f, rec_id, rec_len);
	if (f->elf) {
		const uint8_t *id = NULL;

		f->build_id_len = elf_build_id(f->elf, &id);
		if (f->build_id_len > sizeof(f->build_id))
			f->build_id_len = sizeof(f->build_id);
		if (f->build_id_len)
			memcpy(f->build_id, id, f->build_id_len);
	}
	/* a missing module can still be named from a debug file found by its build-id */
	find_debug(f, root, rec_id, rec_len);

	/*
	 * The file changed since recording but the recorded build's debug file is here: that
	 * one describes the code that ran, the file on disk does not.
	 */
	if (f->elf && f->dbg_elf && rec_len && same_id(f->dbg_elf, rec_id, rec_len) &&
	    !same_id(f->elf, rec_id, rec_len)) {
		collect_syms(f->dbg_elf, SHT_SYMTAB, &v, &n, &cap);
		f->dbg_only = true;
		goto done;
	}
	if (f->elf) {
		collect_syms(f->elf, SHT_SYMTAB, &v, &n, &cap);
		collect_syms(f->elf, SHT_DYNSYM, &v, &n, &cap);
	}
	/* a stripped file's full table lives in its debug file (objcopy --only-keep-debug) */
	if (f->dbg_elf && (!f->elf || !elf_has_section(f->elf, SHT_SYMTAB)))
		collect_syms(f->dbg_elf, SHT_SYMTAB, &v, &n, &cap);
done:
	finish_table(f, v, n);
	free(v);
	pr_dbg(2, "%s: %zu symbols%s\n", f->path, f->nsyms, f->dbg_elf ? " (+debug file)" : "");
	return f->elf ? 0 : -1;
}

/**
 * symf_lookup - the symbol containing ELF vaddr @va in @f. Return: it, or NULL.
 */
struct sym_ent *symf_lookup(const struct sym_file *f, uint64_t va)
{
	size_t lo = 0, hi = f->nsyms, i, back;

	/* last symbol starting at or before va */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->syms[mid].addr <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	/* nested sized symbols: the enclosing one may start a few entries earlier */
	for (i = lo, back = 0; i-- > 0 && back < 8; back++)
		if (va < f->syms[i].end)
			return &f->syms[i];
	return NULL;
}

/* symf_free - release everything symf_load and symf_line acquired (not @f itself). */
void symf_free(struct sym_file *f)
{
	symf_dwarf_free(f);
	elf_close_file(&f->dbg_elf, &f->dbg_fd);
	elf_close_file(&f->elf, &f->fd);
	free(f->mem);
	free(f->syms);
	free(f->dbg_path);
	free(f->path);
}
