/* SPDX-License-Identifier: MIT */
/*
 * Private to symbols.c, symbols-elf.c and symbols-dwarf.c: one ELF file, its code symbols
 * and its DWARF.
 */
#ifndef PERFSHIM_ANALYZER_SYMBOLS_PRIV_H
#define PERFSHIM_ANALYZER_SYMBOLS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/symbols.h"

struct sym_ent {
	uint64_t addr, end;		/* ELF vaddr range [addr, end) */
	const char *name;		/* raw (mangled) name, owned by libelf */
	const char *pretty;		/* display name, made on first use (symbols.c) */
	bool pretty_demangled;		/* pretty was made with demangling on */
};
struct sym_file {
	char *path;
	int fd, dbg_fd;
	struct Elf *elf, *dbg_elf;	/* the file, its separate debug file (or NULL) */
	char *dbg_path;
	void *mem;			/* in-memory image (the vDSO), or NULL */
	bool dbg_only;			/* file changed: names from the recorded build's debug file */
	struct Dwarf *dw;		/* opened on the first line lookup */
	bool dw_tried;
	uint8_t build_id[64];		/* of the file on disk */
	size_t build_id_len;
	struct sym_ent *syms;		/* sorted by addr */
	size_t nsyms;
	struct symf_path *paths;	/* source paths made absolute (symf_frames), a list */
	struct symf_path *pcache[64];	/* ... direct-mapped by the DWARF name's address */
	struct symf_cus *cus;		/* per-unit function indexes (symbols-dwarf.c), an hmap */
};
int symf_load(struct sym_file *f, const char *root, const uint8_t *rec_id, size_t rec_len);
struct sym_ent *symf_lookup(const struct sym_file *f, uint64_t va);
int symf_line(struct sym_file *f, uint64_t va, const char **file, unsigned *line);
/* one entry of symf_frames: an inlined function (name from DWARF) or the real one (NULL) */
struct symf_frame {
	const char *name;		/* raw DWARF name; NULL for the outermost (real) function */
	const char *file;		/* source file, or NULL */
	unsigned line;			/* 0 if unknown */
};
#define SYMF_MAX_CHAIN 64		/* inlined levels followed at one address */
int symf_frames(struct sym_file *f, uint64_t va, struct symf_frame *out, int max);
int symf_decl(struct sym_file *f, uint64_t va, const char **file, unsigned *line);
void symf_dwarf_free(struct sym_file *f);
void symf_free(struct sym_file *f);

#endif /* PERFSHIM_ANALYZER_SYMBOLS_PRIV_H */
