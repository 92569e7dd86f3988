/* SPDX-License-Identifier: MIT */
/*
 * DWARF of one ELF file (its own, or its debug file's found by symbols-elf.c), through libdw:
 * the source line of an address, the chain of functions inlined there, where a function is
 * defined. Each compile unit's functions are indexed by address range on first use, so a
 * lookup costs a binary search and a walk down one function's scopes, not a walk of the
 * unit (libdw's dwarf_getscopes visits every top-level entry of the unit each time).
 */
#define PR_FMT "symbols"

#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>

#include "analyzer/hmap.h"
#include "analyzer/symbols-priv.h"
#include "analyzer/util.h"

/* Scan every unit for one whose ranges hold @va (no or incomplete .debug_aranges). */
static bool scan_units(Dwarf *dw, uint64_t va, Dwarf_Die *out)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, subdie;
	Dwarf_Half ver;
	uint8_t utype;

	while (dwarf_get_units(dw, cu, &cu, &ver, &utype, &cudie, &subdie) == 0) {
		if (utype != DW_UT_compile && utype != DW_UT_partial && utype != DW_UT_skeleton)
			continue;
		if (dwarf_haspc(&cudie, va) > 0) {
			*out = cudie;
			return true;
		}
	}
	return false;
}

/*
 * libdw inflates every compressed DWARF section it knows as it makes the Dwarf handle; the
 * location lists (where debuggers find variables) are never read here, and libc's are 15%
 * of what its debug file inflates. Their sections become SHT_NOBITS in libelf's copy of
 * @e's section headers (the file is not written), which libdw passes over.
 */
static void skip_loclists(Elf *e)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e, &shstrndx) < 0)
		return;
	while ((scn = elf_nextscn(e, scn))) {
		Elf64_Shdr *sh = elf64_getshdr(scn);
		const char *name;

		if (!sh || !(sh->sh_flags & SHF_COMPRESSED) || sh->sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(e, shstrndx, sh->sh_name);
		if (name && (!strcmp(name, ".debug_loclists") || !strcmp(name, ".debug_loc")))
			sh->sh_type = SHT_NOBITS;
	}
}

static Dwarf *begin(Elf *e)
{
	skip_loclists(e);
	return dwarf_begin_elf(e, DWARF_C_READ, NULL);
}

/* The Dwarf handle of @f (the debug file's, else the file's own), opened on first use. */
static Dwarf *dw_of(struct sym_file *f)
{
	if (!f->dw_tried) {
		f->dw_tried = true;
		if (f->dbg_elf)
			f->dw = begin(f->dbg_elf);
		/* NULL (DWARF_E_NO_DWARF) when the file has none: then no lines */
		if (!f->dw && f->elf)
			f->dw = begin(f->elf);
		pr_dbg(2, "%s: %s\n", f->path, f->dw ? "DWARF" : "no DWARF");
	}
	return f->dw;
}

/* The compile unit holding @va into @cudie. Return: false when no unit does. */
static bool cu_of(struct sym_file *f, uint64_t va, Dwarf_Die *cudie)
{
	Dwarf *dw = dw_of(f);

	return dw && (dwarf_addrdie(dw, va, cudie) || scan_units(dw, va, cudie));
}

/* Line-table row of @va in @cudie. Return: 0 and *file (owned by libdw), *line, or -1. */
static int cu_line(Dwarf_Die *cudie, uint64_t va, const char **file, unsigned *line)
{
	Dwarf_Line *l = dwarf_getsrc_die(cudie, va);
	const char *src;
	int ln = 0;

	if (!l || !(src = dwarf_linesrc(l, NULL, NULL)) || dwarf_lineno(l, &ln) || ln <= 0)
		return -1;
	*file = src;
	*line = (unsigned)ln;
	return 0;
}

/**
 * symf_line - source file and line of ELF vaddr @va from DWARF (the debug file's, else the
 * file's own). The Dwarf handle is opened on first use. Return: 0 and *file (owned by libdw,
 * valid until symf_free) and *line, or -1 when unknown.
 */
int symf_line(struct sym_file *f, uint64_t va, const char **file, unsigned *line)
{
	Dwarf_Die cudie;

	if (!cu_of(f, va, &cudie))
		return -1;
	return cu_line(&cudie, va, file, line);
}

/* A source path made absolute: the DWARF name @raw under the unit's directory @dir. */
struct symf_path {
	const char *raw, *dir;		/* owned by libdw */
	struct symf_path *next;
	char full[];
};

/*
 * @raw as an absolute path: relative names (DWARF 5 keeps "samples/a.c" under the unit's
 * DW_AT_comp_dir) joined to @dir, made once per name and kept until symf_free.
 */
static const char *abs_path(struct sym_file *f, const char *raw, const char *dir)
{
	size_t h = ((uintptr_t)raw >> 3) & 63, lr, ld;
	struct symf_path *p = f->pcache[h];

	if (!raw || raw[0] == '/' || !dir || !*dir)
		return raw;
	if (p && p->raw == raw && p->dir == dir)
		return p->full;
	lr = strlen(raw);
	ld = strlen(dir);
	p = xmalloc(sizeof(*p) + ld + lr + 2);
	p->raw = raw;
	p->dir = dir;
	memcpy(p->full, dir, ld);
	p->full[ld] = '/';
	memcpy(p->full + ld + 1, raw, lr + 1);
	p->next = f->paths;
	f->paths = p;
	f->pcache[h] = p;
	return p->full;
}

static const char *comp_dir(Dwarf_Die *cudie)
{
	Dwarf_Attribute a;

	return dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &a));
}

/* Raw (mangled when C++) name of a subprogram or inlined_subroutine DIE, or NULL. */
static const char *die_name(Dwarf_Die *die)
{
	static const unsigned attrs[] = { DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name };
	Dwarf_Attribute a;
	const char *n;
	size_t i;

	/* _integrate: the names live on the abstract origin (or the declaration it specifies) */
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (dwarf_attr_integrate(die, attrs[i], &a) && (n = dwarf_formstring(&a)) && *n)
			return n;
	return NULL;
}

/*
 * The entry of the inlined subroutine @d in the chain: the line so far (@file, @line), and
 * then the line of its call in the enclosing function (DW_AT_call_file/line) into them.
 */
static struct symf_frame inl_frame(Dwarf_Die *d, Dwarf_Files *files, const char **file,
				   unsigned *line)
{
	struct symf_frame fr = { .name = die_name(d), .file = *file, .line = *line };
	Dwarf_Attribute a;
	Dwarf_Word v;

	*file = NULL;
	*line = 0;
	if (files && dwarf_formudata(dwarf_attr(d, DW_AT_call_file, &a), &v) == 0)
		*file = dwarf_filesrc(files, v, NULL, NULL);
	if (dwarf_formudata(dwarf_attr(d, DW_AT_call_line, &a), &v) == 0)
		*line = (unsigned)v;
	if (!*file || !*line) {
		*file = NULL;
		*line = 0;
	}
	return fr;
}

/*
 * The chain at @va by libdw's dwarf_getscopes (a walk of the whole unit): for what the index
 * does not hold (a function nested in a function, units it cannot read).
 */
static int frames_by_scopes(Dwarf_Die *cudie, uint64_t va, const char *file, unsigned line,
			    struct symf_frame *out, int max)
{
	Dwarf_Die *scopes = NULL, *chain = NULL;
	Dwarf_Files *files = NULL;
	int n = 0, nscopes, i;

	nscopes = dwarf_getscopes(cudie, va, &scopes);
	/*
	 * dwarf_getscopes may follow an inlined subroutine into its abstract definition;
	 * dwarf_getscopes_die from the innermost scope gives the concrete nesting only (as
	 * eu-addr2line -i does).
	 */
	if (nscopes > 0)
		nscopes = dwarf_getscopes_die(&scopes[0], &chain);
	free(scopes);
	if (nscopes <= 0)
		goto out;
	dwarf_getsrcfiles(cudie, &files, NULL);
	for (i = 0; i < nscopes; i++) {
		Dwarf_Die *d = &chain[i];
		int tag = dwarf_tag(d);
		struct symf_frame fr;

		if (tag == DW_TAG_subprogram) {
			if (n < max)
				out[n] = (struct symf_frame){ .name = NULL, .file = file, .line = line };
			n++;
			break;
		}
		if (tag != DW_TAG_inlined_subroutine)
			continue;
		fr = inl_frame(d, files, &file, &line);
		if (n < max)
			out[n] = fr;
		n++;
	}
	if (n && (i == nscopes))	/* no enclosing subprogram: DWARF we do not understand */
		n = 0;
out:
	free(chain);
	return n;
}

/* ---- per-unit index of functions by address ---- */

struct fn_range {
	uint64_t lo, hi;		/* [lo, hi) */
	Dwarf_Off die;			/* the subprogram's DIE */
};

struct symf_cu {
	uint64_t key;			/* the unit DIE's offset + 1 */
	struct fn_range *v;		/* sorted by lo */
	size_t n, cap;
};
HMAP_DEFINE(symf_cus, struct symf_cu, key)

static void index_add(struct symf_cu *ci, Dwarf_Die *d)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;

	/* every range: a function split into hot and cold parts has two */
	while ((off = dwarf_ranges(d, off, &base, &lo, &hi)) > 0) {
		if (hi <= lo)
			continue;
		ARRAY_ROOM(ci->v, ci->cap, ci->n);
		ci->v[ci->n++] = (struct fn_range){ lo, hi, dwarf_dieoffset(d) };
	}
}

/* Functions with code under @parent: its subprograms, and those in namespaces and classes. */
static void index_walk(struct symf_cu *ci, Dwarf_Die *parent, int depth)
{
	Dwarf_Die c;

	if (dwarf_child(parent, &c) != 0)
		return;
	do {
		int tag = dwarf_tag(&c);

		if (tag == DW_TAG_subprogram)
			index_add(ci, &c);
		else if (depth < 16 && (tag == DW_TAG_namespace || tag == DW_TAG_structure_type ||
					tag == DW_TAG_class_type || tag == DW_TAG_union_type ||
					tag == DW_TAG_module))
			index_walk(ci, &c, depth + 1);
	} while (dwarf_siblingof(&c, &c) == 0);
}

static int range_cmp(const void *a, const void *b)
{
	const struct fn_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The index of unit @cudie, built on its first lookup. */
static struct symf_cu *cu_index(struct sym_file *f, Dwarf_Die *cudie)
{
	uint64_t key = (uint64_t)dwarf_dieoffset(cudie) + 1;
	struct symf_cu *ci, built = { .key = key };
	bool created;

	if (!f->cus)
		f->cus = xcalloc(1, sizeof(*f->cus));
	ci = symf_cus_get(f->cus, key);
	if (ci)
		return ci;
	index_walk(&built, cudie, 0);
	if (built.n)
		qsort(built.v, built.n, sizeof(*built.v), range_cmp);
	ci = symf_cus_put(f->cus, key, &created);
	*ci = built;
	return ci;
}

/* The subprogram holding @va by the index of @cudie into @fn. Return: false if none. */
static bool find_function(struct sym_file *f, Dwarf_Die *cudie, uint64_t va, Dwarf_Die *fn)
{
	struct symf_cu *ci = cu_index(f, cudie);
	size_t lo = 0, hi = ci->n, i, back;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ci->v[mid].lo <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo, back = 0; i-- > 0 && back < 8; back++)
		if (va < ci->v[i].hi)
			return dwarf_offdie(f->dw, ci->v[i].die, fn) != NULL;
	return false;
}

/*
 * The inlined subroutines holding @va inside function @fn, outermost first, into @inl (up to
 * @max): down the scopes (lexical blocks, inlined subroutines) whose ranges hold @va.
 * Return: how many there are.
 */
static int descend(Dwarf_Die *fn, uint64_t va, Dwarf_Die *inl, int max)
{
	Dwarf_Die cur = *fn, c;
	int n = 0, depth;

	for (depth = 0; depth < 256; depth++) {
		bool found = false;

		if (dwarf_child(&cur, &c) != 0)
			break;
		do {
			int tag = dwarf_tag(&c);

			if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block &&
			    tag != DW_TAG_try_block && tag != DW_TAG_catch_block)
				continue;
			if (dwarf_haspc(&c, va) <= 0)
				continue;
			if (tag == DW_TAG_inlined_subroutine && n < max)
				inl[n++] = c;
			cur = c;
			found = true;
			break;
		} while (dwarf_siblingof(&c, &c) == 0);
		if (!found)
			break;
	}
	return n;
}

/**
 * symf_frames - the inline chain at ELF vaddr @va, innermost first, into @out (up to @max).
 * Each entry but the last is a function inlined into the next one: its DWARF name (raw, as
 * die_name), and the source line the code at @va (for the first) or the call of the inner
 * one (DW_AT_call_file/line) is at. The last is the real function: name NULL (the caller
 * names it from the symbol table) and its own line. Strings are owned by libdw or @f.
 * Return: how many entries the chain has (may exceed @max), 0 when DWARF does not know @va.
 */
int symf_frames(struct sym_file *f, uint64_t va, struct symf_frame *out, int max)
{
	Dwarf_Die cudie, fn, inl[SYMF_MAX_CHAIN];
	Dwarf_Files *files = NULL;
	const char *file = NULL;
	unsigned line = 0;
	int n = 0, ninl, i;

	if (!cu_of(f, va, &cudie))
		return 0;
	cu_line(&cudie, va, &file, &line);
	if (find_function(f, &cudie, va, &fn)) {
		ninl = descend(&fn, va, inl, SYMF_MAX_CHAIN);
		if (ninl)
			dwarf_getsrcfiles(&cudie, &files, NULL);
		for (i = ninl; i-- > 0; n++) {
			struct symf_frame fr = inl_frame(&inl[i], files, &file, &line);

			if (n < max)
				out[n] = fr;
		}
		if (n < max)
			out[n] = (struct symf_frame){ .name = NULL, .file = file, .line = line };
		n++;
	} else {
		n = frames_by_scopes(&cudie, va, file, line, out, max);
	}
	if (!n && file && max > 0) {	/* lines but no scopes (assembly units) */
		out[0] = (struct symf_frame){ .name = NULL, .file = file, .line = line };
		n = 1;
	}
	for (i = 0; i < n && i < max; i++)
		out[i].file = abs_path(f, out[i].file, comp_dir(&cudie));
	return n;
}

/**
 * symf_decl - where the function holding ELF vaddr @va is defined (DW_AT_decl_file/line of
 * its subprogram, through its specification or abstract origin). Return: 0 and *file (owned
 * by libdw) and *line, or -1 when unknown.
 */
int symf_decl(struct sym_file *f, uint64_t va, const char **file, unsigned *line)
{
	Dwarf_Die cudie, fn, *scopes = NULL, *d = NULL;
	int nscopes = 0, i, ln = 0, rc = -1;
	const char *src;

	if (!cu_of(f, va, &cudie))
		return -1;
	if (find_function(f, &cudie, va, &fn)) {
		d = &fn;
	} else {
		nscopes = dwarf_getscopes(&cudie, va, &scopes);
		for (i = 0; i < nscopes && !d; i++)
			if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
				d = &scopes[i];
	}
	if (d && (src = dwarf_decl_file(d)) && dwarf_decl_line(d, &ln) == 0 && ln > 0) {
		*file = abs_path(f, src, comp_dir(&cudie));
		*line = (unsigned)ln;
		rc = 0;
	}
	free(scopes);
	return rc;
}

/* symf_dwarf_free - release what the functions of this file acquired for @f. */
void symf_dwarf_free(struct sym_file *f)
{
	struct symf_cu *ci;

	if (f->cus) {
		for (ci = symf_cus_each(f->cus, NULL); ci; ci = symf_cus_each(f->cus, ci))
			free(ci->v);
		symf_cus_free(f->cus);
		free(f->cus);
		f->cus = NULL;
	}
	while (f->paths) {
		struct symf_path *p = f->paths;

		f->paths = p->next;
		free(p);
	}
	if (f->dw)
		dwarf_end(f->dw);
	f->dw = NULL;
}
