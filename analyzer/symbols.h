/* SPDX-License-Identifier: MIT */
/*
 * Symbols (symbols.c): names, modules, source lines and inlined frames of the addresses of a
 * trace, read from the ELF files and DWARF of its modules. Strings are owned by the handle.
 */
#ifndef PERFSHIM_ANALYZER_SYMBOLS_H
#define PERFSHIM_ANALYZER_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/trace.h"

struct sym_info {
	const char *name;		/* demangled function name, NULL if unknown */
	const char *module;		/* module path (as recorded), NULL if outside any */
	const char *module_id;		/* its GNU build-id in hex, NULL if it has none */
	uint64_t module_off;		/* addr - module base */
	const char *file;		/* source file from DWARF, or NULL */
	unsigned line;			/* 0 if unknown */
};

struct symbols;
struct symbols *sym_open(const struct trace *t);
void sym_close(struct symbols *s);
/*
 * sym_resolve - symbolize @addr (an address in the traced process, at time @ns for modules
 * that came and went). @is_ra: a return address, looked up as addr - 1. Strings are owned by
 * @s and live until sym_close. Return: 0 when a name was found, -1 otherwise (@out still
 * holds the module and offset when known).
 */
int sym_resolve(struct symbols *s, uint64_t addr, bool is_ra, struct sym_info *out);
/* sym_name - "name" or "module+0xOFF" or "0xADDR"; owned by @s (cached per address). */
const char *sym_name(struct symbols *s, uint64_t addr, bool is_ra);
/* sym_module_name - basename of the module holding @addr, or "?" */
const char *sym_module_name(struct symbols *s, uint64_t addr);
/*
 * The same at time @ns (ns since trace start): where modules were unloaded and others loaded
 * at the same addresses, the module loaded at @ns is used. The calls without a time take the
 * module loaded last.
 */
int sym_resolve_at(struct symbols *s, uint64_t addr, bool is_ra, uint64_t ns,
		   struct sym_info *out);
const char *sym_name_at(struct symbols *s, uint64_t addr, bool is_ra, uint64_t ns);
/*
 * The same for function @func of the trace (an index into t->funcs): its address, in the
 * module it was called in. Strings owned by @s.
 */
int sym_resolve_func(struct symbols *s, uint32_t func, struct sym_info *out);
const char *sym_func_name(struct symbols *s, uint32_t func);
const char *sym_func_module(struct symbols *s, uint32_t func);	/* basename, or "?" */
uint64_t sym_func_addr(struct symbols *s, uint32_t func);
/* The same for a frame of a stack (trace_stack_get): its address, in the module it was in. */
int sym_resolve_frame(struct symbols *s, const struct trace_frame *f, struct sym_info *out);
const char *sym_frame_name(struct symbols *s, const struct trace_frame *f);
const char *sym_frame_module(struct symbols *s, const struct trace_frame *f); /* or "?" */
/* sym_set_demangle - show C++ names mangled (--no-demangle) or demangled (the default). */
void sym_set_demangle(struct symbols *s, bool on);

/*
 * A frame as reports show it: one address can stand for several frames, the functions the
 * compiler inlined there (innermost first) and the real function holding the code.
 */
struct sym_frame {
	const char *name;		/* as sym_name: demangled name, else module+0xOFF, else 0xADDR */
	const char *module;		/* module basename, NULL outside every module */
	const char *file;		/* source file from DWARF (path as the compiler gave it, made
					 * absolute with the unit's directory), NULL if unknown */
	unsigned line;			/* 0 if unknown */
	bool inlined;			/* inlined into the next frame (the same address) */
};
#define SYM_MAX_INLINE 16		/* most frames sym_frames gives for one address */
/*
 * sym_frames - THE frame lookup for reports and exports: frame @f of a stack (trace_stack_get)
 * as @out[0..n-1], innermost first: the functions inlined at its address, each with the
 * source line inside it (the code itself for the first, the call of the inner one for the
 * others; marked inlined), then the real function (not inlined) with the line of the call
 * it made (or, for the innermost frame of a stack, of the code itself). Without DWARF, or
 * with lines off (sym_set_lines), one frame: the name, file NULL, line 0. Cached per
 * address; strings owned by @s until sym_close.
 * Return: n, 1..@max (deeper chains keep their innermost @max - 1 and the real function).
 */
int sym_frames(struct symbols *s, const struct trace_frame *f, struct sym_frame *out, int max);
/* sym_frames_addr - sym_frames for a bare address (@is_ra: a return address, see sym_resolve) */
int sym_frames_addr(struct symbols *s, uint64_t addr, bool is_ra, struct sym_frame *out,
		    int max);
/*
 * sym_func_decl - where function @func of the trace is defined (DW_AT_decl_file/line).
 * Return: 0 and *file (owned by @s) and *line, or -1 when unknown or lines are off.
 */
int sym_func_decl(struct symbols *s, uint32_t func, const char **file, unsigned *line);
/* sym_set_lines - file:line and inlined frames on (default) or off (--no-lines: no DWARF read) */
void sym_set_lines(struct symbols *s, bool on);
/* sym_set_lines_default - the setting sym_open gives new handles (main.c: --no-lines) */
void sym_set_lines_default(bool on);

#endif /* PERFSHIM_ANALYZER_SYMBOLS_H */
