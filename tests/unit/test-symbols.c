/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of analyzer/symbols*.c: small programs are compiled at test time (C, C++, a
 * stripped copy, a split debug file, damaged copies) and their addresses, taken from nm,
 * are resolved through a struct trace built in memory with a fake load bias. The test
 * binary's own functions are resolved at their real runtime addresses too.
 */
#define PR_FMT "test"

#include <check.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <elfutils/libdw.h>

#include "analyzer/symbols.h"
#include "tests/unit/testutil.h"

#define BIAS 0x7f1200000000ULL		/* fake load bias of the compiled programs */
#define SPAN 0x200000ULL		/* their mapped range from the bias */

static char dir[256];			/* scratch directory, made by the fixture */

/* Lines the tests expect from DWARF: see prog_c below. */
#define LINE_LOCAL_HELPER 4		/* gcc puts a function's first row on its "{" */
#define LINE_GLOBAL_FN 9

static const char prog_c[] =
	"#include <stdlib.h>\n"						/* 1 */
	"static int __attribute__((noinline))\n"			/* 2 */
	"local_helper(int x)\n"						/* 3 */
	"{\n"								/* 4 */
	"	return x * 3 + rand() % 2;\n"				/* 5 */
	"}\n"								/* 6 */
	"\n"								/* 7 */
	"int global_fn(int x)\n"					/* 8 */
	"{\n"								/* 9 */
	"	int r;\n"						/* 10 */
	"	r = local_helper(x);\n"					/* 11 */
	"	return r + 1;\n"					/* 12 */
	"}\n"								/* 13 */
	"__asm__(\".text\\n.globl zfunc\\n.type zfunc,@function\\nzfunc:\\n"
	"nop\\nnop\\nnop\\nret\\n"
	".globl sized_asm\\n.type sized_asm,@function\\nsized_asm:\\nnop\\n"
	"inner_label:\\nnop\\nnop\\nret\\n.size sized_asm, .-sized_asm\\n\");\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	return global_fn(argc) > 100;\n"
	"}\n";

static const char prog_cc[] =
	"namespace ns {\n"
	"struct Widget {\n"
	"	int v;\n"
	"	int method(int x);\n"
	"};\n"
	"int Widget::method(int x) { return v + x; }\n"
	"template <typename T> T twice(T x) { return x + x; }\n"
	"int over(int x) { return x; }\n"
	"double over(double x) { return x; }\n"
	"}\n"
	"int main()\n"
	"{\n"
	"	ns::Widget w{1};\n"
	"	return w.method(2) + ns::twice<int>(3) + ns::over(1) + (int)ns::over(2.0);\n"
	"}\n";

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		fprintf(stderr, "test-symbols: command failed: %s\n", cmd);
		abort();
	}
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
		perror(path);
		abort();
	}
}

static const char *in_dir(const char *name)
{
	static char bufs[8][512];
	static int k;
	char *b = bufs[k++ & 7];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* nm: the ELF vaddr of @sym in @bin (aborts when missing), its size in *size. */
static uint64_t nm_addr(const char *bin, const char *sym, uint64_t *size)
{
	char cmd[1024], line[1024];
	uint64_t addr = 0, sz = 0;
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -S --defined-only '%s'", bin);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		char f[4][512];
		int n = sscanf(line, "%511s %511s %511s %511s", f[0], f[1], f[2], f[3]);

		if (n == 4 && !strcmp(f[3], sym)) {
			addr = strtoull(f[0], NULL, 16);
			sz = strtoull(f[1], NULL, 16);
			found = true;
		} else if (n == 3 && !strcmp(f[2], sym)) {
			addr = strtoull(f[0], NULL, 16);
			found = true;
		}
	}
	pclose(p);
	if (!found) {
		fprintf(stderr, "test-symbols: %s not in %s\n", sym, bin);
		abort();
	}
	if (size)
		*size = sz;
	return addr;
}

/* Build-id of @bin as raw bytes (readelf -n), length returned. */
static size_t build_id_of(const char *bin, uint8_t *id)
{
	char cmd[1024], line[1024];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -n '%s'", bin);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		char *h = strstr(line, "Build ID: ");

		if (!h)
			continue;
		for (h += 10; h[0] && h[1] && h[0] != '\n' && n < 64; h += 2) {
			unsigned v;

			sscanf(h, "%2x", &v);
			id[n++] = (uint8_t)v;
		}
	}
	pclose(p);
	ck_assert_uint_gt(n, 0);
	return n;
}

static void fixture_up(void)
{
	snprintf(dir, sizeof(dir), "/tmp/perfshim-symtest.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	write_file(in_dir("prog.c"), prog_c, sizeof(prog_c) - 1);
	write_file(in_dir("prog.cc"), prog_cc, sizeof(prog_cc) - 1);
	sh("cd %s && cc -g -O0 -fPIE -pie -o prog prog.c", dir);
	sh("cd %s && c++ -g -O0 -fPIE -pie -o progxx prog.cc", dir);
	/* stripped copy, no debug file anywhere */
	sh("cd %s && strip --strip-all -o prog.stripped prog", dir);
	/* split debug info: prog.split (stripped) + prog.debug next to it (debuglink) */
	sh("cd %s && objcopy --only-keep-debug prog prog.debug && "
	   "objcopy --strip-all --add-gnu-debuglink=prog.debug prog prog.split", dir);
	/* the same with a debug file whose CRC no longer matches */
	sh("cd %s && mkdir -p bad && cp prog.split bad/prog.split && cp prog.debug bad/ && "
	   "printf x >> bad/prog.debug", dir);
	/* build-id directory layout, under a private debug root */
	sh("cd %s && id=$(readelf -n prog | sed -n 's/.*Build ID: //p') && "
	   "mkdir -p root/.build-id/${id%%${id#??}} && "
	   "cp prog.debug root/.build-id/${id%%${id#??}}/${id#??}.debug && "
	   "strip --strip-all --remove-section=.gnu_debuglink -o prog.byid prog", dir);
}

static void fixture_down(void)
{
	char cmd[512];

	if (!dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test-symbols: cannot remove %s\n", dir);
}

/* A trace holding one module (@path at BIAS), or several through add_mod. */
struct fake {
	struct trace t;
	struct trace_module m[16];
};

static struct trace_module *add_mod(struct fake *f, const char *path, uint64_t bias)
{
	struct trace_module *m = &f->m[f->t.nmodules++];

	memset(m, 0, sizeof(*m));
	m->base = bias;
	m->lo = bias;
	m->hi = bias + SPAN;
	m->path = (char *)path;
	m->unload_ns = UINT64_MAX;
	f->t.modules = f->m;
	return m;
}

static struct symbols *open1(struct fake *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	add_mod(f, path, BIAS);
	return sym_open(&f->t);
}

/* ---- compiled programs ---- */

START_TEST(static_function_pie)
{
	const char *prog = in_dir("prog");
	uint64_t va = nm_addr(prog, "local_helper", NULL);
	struct sym_info si;
	struct fake f;
	struct symbols *s = open1(&f, prog);

	ck_assert_int_eq(sym_resolve(s, BIAS + va, false, &si), 0);
	ck_assert_str_eq(si.name, "local_helper");
	ck_assert_str_eq(si.module, prog);
	ck_assert_uint_eq(si.module_off, va);
	/* a few bytes in: still the same function */
	ck_assert_str_eq(sym_name(s, BIAS + va + 4, false), "local_helper");
	ck_assert_str_eq(sym_name(s, BIAS + nm_addr(prog, "main", NULL), false), "main");
	ck_assert_str_eq(sym_module_name(s, BIAS + va), "prog");
	sym_close(s);
}
END_TEST

START_TEST(dwarf_lines)
{
	const char *prog = in_dir("prog");
	uint64_t va = nm_addr(prog, "local_helper", NULL);
	struct sym_info si;
	struct fake f;
	struct symbols *s = open1(&f, prog);
	const char *b;

	ck_assert_int_eq(sym_resolve(s, BIAS + va, false, &si), 0);
	ck_assert_ptr_nonnull(si.file);
	b = strrchr(si.file, '/');
	ck_assert_str_eq(b ? b + 1 : si.file, "prog.c");
	ck_assert_uint_eq(si.line, LINE_LOCAL_HELPER);
	sym_close(s);
}
END_TEST

/* The address just past a function's last byte is its return address when it ends in a call. */
START_TEST(return_address_minus_one)
{
	const char *prog = in_dir("prog");
	uint64_t size, va = nm_addr(prog, "local_helper", &size);
	uint64_t next = nm_addr(prog, "global_fn", NULL);
	struct fake f;
	struct symbols *s = open1(&f, prog);

	ck_assert_uint_gt(size, 0);
	ck_assert_str_eq(sym_name(s, BIAS + va + size, true), "local_helper");
	if (next == va + size)
		ck_assert_str_eq(sym_name(s, BIAS + va + size, false), "global_fn");
	else
		ck_assert_str_ne(sym_name(s, BIAS + va + size, false), "local_helper");
	sym_close(s);
}
END_TEST

START_TEST(zero_size_and_inner_labels)
{
	const char *prog = in_dir("prog");
	uint64_t zsize, z = nm_addr(prog, "zfunc", &zsize);
	uint64_t sa = nm_addr(prog, "sized_asm", NULL);
	uint64_t inner = nm_addr(prog, "inner_label", NULL);
	struct fake f;
	struct symbols *s = open1(&f, prog);

	ck_assert_uint_eq(zsize, 0);
	ck_assert_str_eq(sym_name(s, BIAS + z, false), "zfunc");
	ck_assert_str_eq(sym_name(s, BIAS + z + 3, false), "zfunc");
	/* the label inside sized_asm does not hide it */
	ck_assert_uint_eq(inner, sa + 1);
	ck_assert_str_eq(sym_name(s, BIAS + inner + 1, false), "sized_asm");
	sym_close(s);
}
END_TEST

START_TEST(cxx_demangled)
{
	const char *prog = in_dir("progxx");
	struct fake f;
	struct symbols *s = open1(&f, prog);
	struct sym_info si;

	ck_assert_str_eq(sym_name(s, BIAS + nm_addr(prog, "_ZN2ns6Widget6methodEi", NULL), false),
			 "ns::Widget::method(int)");
	ck_assert_str_eq(sym_name(s, BIAS + nm_addr(prog, "_ZN2ns5twiceIiEET_S1_", NULL), false),
			 "int ns::twice<int>(int)");
	ck_assert_str_eq(sym_name(s, BIAS + nm_addr(prog, "_ZN2ns4overEd", NULL), false),
			 "ns::over(double)");
	ck_assert_str_eq(sym_name(s, BIAS + nm_addr(prog, "_ZN2ns4overEi", NULL), false),
			 "ns::over(int)");
	ck_assert_int_eq(sym_resolve(s, BIAS + nm_addr(prog, "_ZN2ns6Widget6methodEi", NULL),
				     false, &si), 0);
	ck_assert_uint_eq(si.line, 6);
	sym_close(s);

	/* --no-demangle */
	s = open1(&f, prog);
	sym_set_demangle(s, false);
	ck_assert_str_eq(sym_name(s, BIAS + nm_addr(prog, "_ZN2ns4overEd", NULL), false),
			 "_ZN2ns4overEd");
	sym_close(s);
}
END_TEST

START_TEST(stripped_gives_module_offset)
{
	const char *prog = in_dir("prog.stripped");
	uint64_t va = nm_addr(in_dir("prog"), "local_helper", NULL);
	char want[128];
	struct sym_info si;
	struct fake f;
	struct symbols *s = open1(&f, prog);

	snprintf(want, sizeof(want), "prog.stripped+0x%" PRIx64, va);
	ck_assert_str_eq(sym_name(s, BIAS + va, false), want);
	ck_assert_int_eq(sym_resolve(s, BIAS + va, false, &si), -1);
	ck_assert_ptr_null(si.name);
	ck_assert_str_eq(si.module, prog);
	ck_assert_uint_eq(si.module_off, va);
	ck_assert_ptr_null(si.file);
	ck_assert_str_eq(sym_module_name(s, BIAS + va), "prog.stripped");
	sym_close(s);
}
END_TEST

START_TEST(debuglink_next_to_file)
{
	const char *prog = in_dir("prog.split");
	uint64_t va = nm_addr(in_dir("prog"), "local_helper", NULL);
	struct sym_info si;
	struct fake f;
	struct symbols *s;

	setenv("PERFSHIM_DEBUG_ROOT", in_dir("nothing-here"), 1);
	s = open1(&f, prog);
	ck_assert_int_eq(sym_resolve(s, BIAS + va, false, &si), 0);
	ck_assert_str_eq(si.name, "local_helper");
	ck_assert_uint_eq(si.line, LINE_LOCAL_HELPER);
	sym_close(s);
}
END_TEST

START_TEST(debuglink_crc_mismatch)
{
	const char *prog = in_dir("bad/prog.split");
	uint64_t va = nm_addr(in_dir("prog"), "local_helper", NULL);
	char want[128];
	struct sym_info si;
	struct fake f;
	struct symbols *s;

	setenv("PERFSHIM_DEBUG_ROOT", in_dir("nothing-here"), 1);
	s = open1(&f, prog);
	snprintf(want, sizeof(want), "prog.split+0x%" PRIx64, va);
	ck_assert_int_eq(sym_resolve(s, BIAS + va, false, &si), -1);
	ck_assert_str_eq(sym_name(s, BIAS + va, false), want);
	ck_assert_ptr_null(si.file);
	sym_close(s);
}
END_TEST

START_TEST(debug_by_build_id)
{
	const char *prog = in_dir("prog.byid");
	uint64_t va = nm_addr(in_dir("prog"), "global_fn", NULL);
	struct sym_info si;
	struct fake f;
	struct symbols *s;

	setenv("PERFSHIM_DEBUG_ROOT", in_dir("root"), 1);
	s = open1(&f, prog);
	ck_assert_int_eq(sym_resolve(s, BIAS + va, false, &si), 0);
	ck_assert_str_eq(si.name, "global_fn");
	ck_assert_uint_eq(si.line, LINE_GLOBAL_FN);
	sym_close(s);
}
END_TEST

/* The module file is gone, but its debug file is found by the recorded build-id. */
START_TEST(missing_file_debug_by_recorded_id)
{
	uint64_t va = nm_addr(in_dir("prog"), "global_fn", NULL);
	struct fake f;
	struct trace_module *m;
	struct symbols *s;

	setenv("PERFSHIM_DEBUG_ROOT", in_dir("root"), 1);
	memset(&f, 0, sizeof(f));
	m = add_mod(&f, in_dir("deleted/prog"), BIAS);
	m->build_id_len = (uint32_t)build_id_of(in_dir("prog"), m->build_id);
	s = sym_open(&f.t);
	ck_assert_str_eq(sym_name(s, BIAS + va, false), "global_fn");
	sym_close(s);
}
END_TEST

/*
 * The file at the recorded path is now another program, but the recorded build's debug file
 * is in the build-id directory: names come from it (the code that ran), with the warning.
 */
START_TEST(changed_file_named_from_recorded_debug)
{
	uint64_t va = nm_addr(in_dir("prog"), "local_helper", NULL);
	struct trace_module *m;
	struct sym_info si;
	struct fake f;
	struct symbols *s;

	setenv("PERFSHIM_DEBUG_ROOT", in_dir("root"), 1);
	memset(&f, 0, sizeof(f));
	m = add_mod(&f, in_dir("progxx"), BIAS);
	m->build_id_len = (uint32_t)build_id_of(in_dir("prog"), m->build_id);
	s = sym_open(&f.t);
	ck_assert_int_eq(sym_resolve(s, BIAS + va, false, &si), 0);
	ck_assert_str_eq(si.name, "local_helper");
	ck_assert_uint_eq(si.line, LINE_LOCAL_HELPER);
	sym_close(s);
}
END_TEST

/* Count lines of @path containing @needle. */
static int count_lines(const char *path, const char *needle)
{
	char line[4096];
	int n = 0;
	FILE *fp = fopen(path, "r");

	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp))
		if (strstr(line, needle))
			n++;
	fclose(fp);
	return n;
}

START_TEST(build_id_mismatch_warns_once)
{
	const char *prog = in_dir("prog");
	uint64_t va = nm_addr(prog, "local_helper", NULL);
	char errpath[512];
	struct trace_module *m;
	struct sym_info si;
	struct fake f;
	struct symbols *s;
	int fd, saved;

	snprintf(errpath, sizeof(errpath), "%s/stderr.%d", dir, (int)getpid());
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	saved = dup(2);
	dup2(fd, 2);

	memset(&f, 0, sizeof(f));
	m = add_mod(&f, prog, BIAS);
	memcpy(m->build_id, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	m->build_id_len = 8;
	/* a second module mapping the same file elsewhere: still one warning */
	m = add_mod(&f, prog, BIAS + 0x10000000);
	memcpy(m->build_id, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	m->build_id_len = 8;
	s = sym_open(&f.t);
	ck_assert_int_eq(sym_resolve(s, BIAS + va, false, &si), 0);
	ck_assert_str_eq(si.name, "local_helper");
	ck_assert_str_eq(sym_name(s, BIAS + va + 1, false), "local_helper");
	ck_assert_str_eq(sym_name(s, BIAS + 0x10000000 + va, false), "local_helper");
	sym_close(s);

	/* the right build-id: no warning */
	memset(&f, 0, sizeof(f));
	m = add_mod(&f, prog, BIAS);
	m->build_id_len = (uint32_t)build_id_of(prog, m->build_id);
	s = sym_open(&f.t);
	ck_assert_str_eq(sym_name(s, BIAS + va, false), "local_helper");
	sym_close(s);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	ck_assert_int_eq(count_lines(errpath, "build-id differs"), 1);
	ck_assert_int_eq(count_lines(errpath, prog), 1);
}
END_TEST

START_TEST(outside_every_module)
{
	struct fake f;
	struct symbols *s = open1(&f, in_dir("prog"));
	struct sym_info si;

	ck_assert_str_eq(sym_name(s, 0x1234, false), "0x1234");
	ck_assert_str_eq(sym_module_name(s, 0x1234), "?");
	ck_assert_int_eq(sym_resolve(s, BIAS + SPAN, false, &si), -1);
	ck_assert_ptr_null(si.module);
	/* another kernel's vDSO (build-id not ours): module+offset, and no warning */
	sym_close(s);
	s = open1(&f, "linux-vdso.so.1");
	memcpy(f.m[0].build_id, "\xde\xad\xbe\xef", 4);
	f.m[0].build_id_len = 4;
	ck_assert_str_eq(sym_name(s, BIAS + 0x9a0, true), "linux-vdso.so.1+0x9a0");
	ck_assert_str_eq(sym_module_name(s, BIAS + 0x9a0), "linux-vdso.so.1");
	sym_close(s);
}
END_TEST

/* Damaged, foreign and non-regular files behind a module path: no symbols, no crash. */
START_TEST(garbage_files)
{
	static const char *const names[] = { "garbage", "hdr-only", "half", "bad-shoff",
					     "bad-shnum", "empty", "object.o", "/dev/zero", "/",
					     "missing" };
	uint64_t va = nm_addr(in_dir("prog"), "global_fn", NULL);
	char rnd[4096];
	size_t i;

	/* "half" still holds the build-id note: no debug file may rescue it here */
	setenv("PERFSHIM_DEBUG_ROOT", in_dir("nothing-here"), 1);
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (char)(rand() & 0xff);
	write_file(in_dir("garbage"), rnd, sizeof(rnd));
	write_file(in_dir("empty"), "", 0);
	sh("cd %s && head -c 64 prog > hdr-only && head -c $(($(stat -c %%s prog) / 2)) prog > half",
	   dir);
	/* a relocatable object: real symbols, but section-relative values */
	sh("cd %s && cc -g -c -o object.o prog.c", dir);
	/* e_shoff (offset 40) far past the end; e_shnum (offset 60) huge */
	sh("cd %s && cp prog bad-shoff && printf '\\377\\377\\377\\177' | "
	   "dd of=bad-shoff bs=1 seek=44 conv=notrunc status=none", dir);
	sh("cd %s && cp prog bad-shnum && printf '\\377\\377' | "
	   "dd of=bad-shnum bs=1 seek=60 conv=notrunc status=none", dir);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *path = names[i][0] == '/' ? names[i] : in_dir(names[i]);
		const char *base = strrchr(path, '/') && path[1] ? strrchr(path, '/') + 1 : path;
		char want[256];
		struct sym_info si;
		struct fake f;
		struct symbols *s = open1(&f, path);

		/* the object's own offset of global_fn: a name there would be a false one */
		if (!strcmp(names[i], "object.o"))
			va = nm_addr(path, "global_fn", NULL);
		snprintf(want, sizeof(want), "%s+0x%" PRIx64, base, va);
		ck_assert_int_eq(sym_resolve(s, BIAS + va, false, &si), -1);
		ck_assert_str_eq(sym_name(s, BIAS + va, false), want);
		sym_close(s);
	}
}
END_TEST

/* Random byte flips in a real ELF: whatever comes out, nothing crashes (run under SAN=1). */
START_TEST(fuzzed_elf)
{
	uint64_t vas[3] = { nm_addr(in_dir("prog"), "global_fn", NULL),
			    nm_addr(in_dir("prog"), "local_helper", NULL),
			    nm_addr(in_dir("prog"), "main", NULL) };
	const char *path = in_dir("fuzz");
	struct stat st;
	char *orig;
	int round, fd;

	fd = open(in_dir("prog"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	orig = malloc(st.st_size);
	ck_assert_int_eq(read(fd, orig, st.st_size), st.st_size);
	close(fd);
	srand(12345);
	for (round = 0; round < 150; round++) {
		char *copy = malloc(st.st_size);
		struct sym_info si;
		struct fake f;
		struct symbols *s;
		int k, flips = 1 + rand() % 40;
		size_t len = st.st_size;

		memcpy(copy, orig, st.st_size);
		for (k = 0; k < flips; k++) {
			/* the headers and tables at the end matter most: aim there often */
			size_t at = rand() % 2 ? rand() % 128 : st.st_size - 1 - rand() % 4096;

			copy[at % st.st_size] ^= (char)(1 + rand() % 255);
		}
		if (round % 5 == 0)
			len = rand() % st.st_size;
		write_file(path, copy, len);
		free(copy);
		s = open1(&f, path);
		for (k = 0; k < 3; k++) {
			sym_resolve(s, BIAS + vas[k], k == 1, &si);
			ck_assert_ptr_nonnull(sym_name(s, BIAS + vas[k], false));
		}
		sym_close(s);
	}
	free(orig);
}
END_TEST

static int count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 4096; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* Hundreds of modules in use at once: names for all, without running out of descriptors. */
START_TEST(many_modules_bounded_fds)
{
	static struct trace_module mods[300];
	static char paths[300][300];
	uint64_t va = nm_addr(in_dir("prog"), "local_helper", NULL);
	struct trace t;
	struct symbols *s;
	int i, before = count_fds();

	memset(&t, 0, sizeof(t));
	sh("mkdir -p %s/many && for i in $(seq 0 299); do ln -f %s/prog %s/many/lib$i.so; done",
	   dir, dir, dir);
	for (i = 0; i < 300; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/many/lib%d.so", dir, i);
		mods[i] = (struct trace_module){ .base = BIAS + (uint64_t)i * SPAN,
						 .lo = BIAS + (uint64_t)i * SPAN,
						 .hi = BIAS + (uint64_t)(i + 1) * SPAN,
						 .path = paths[i], .unload_ns = UINT64_MAX };
	}
	t.modules = mods;
	t.nmodules = 300;
	s = sym_open(&t);
	for (i = 0; i < 300; i++) {
		struct sym_info si;

		if (sym_resolve(s, BIAS + (uint64_t)i * SPAN + va, false, &si) != 0 ||
		    strcmp(si.name, "local_helper") || si.line != LINE_LOCAL_HELPER)
			ck_abort_msg("module %d: %s line %u", i, si.name ? si.name : "-", si.line);
	}
	ck_assert_int_le(count_fds() - before, 210);
	sym_close(s);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* One range, two modules over time (dlclose, then another library at the same address). */
START_TEST(reused_range_by_time)
{
	uint64_t va = nm_addr(in_dir("prog"), "local_helper", NULL);
	uint64_t vx = nm_addr(in_dir("progxx"), "_ZN2ns6Widget6methodEi", NULL);
	struct trace_module *a, *b;
	struct fake f;
	struct symbols *s;

	memset(&f, 0, sizeof(f));
	a = add_mod(&f, in_dir("prog"), BIAS);
	a->load_ns = 100;
	a->unload_ns = 1000;
	b = add_mod(&f, in_dir("progxx"), BIAS);
	b->load_ns = 2000;
	s = sym_open(&f.t);
	ck_assert_str_eq(sym_name_at(s, BIAS + va, false, 500), "local_helper");
	ck_assert_str_eq(sym_name_at(s, BIAS + vx, false, 3000), "ns::Widget::method(int)");
	ck_assert_str_ne(sym_name_at(s, BIAS + vx, false, 500), "ns::Widget::method(int)");
	/* after the unload, before the next load: the module being loaded (its constructors
	 * run before dlopen returns and writes its MODULE record) */
	ck_assert_str_eq(sym_name_at(s, BIAS + vx, false, 1500), "ns::Widget::method(int)");
	ck_assert_str_ne(sym_name_at(s, BIAS + va, false, 1500), "local_helper");
	/* before the first load too; and after the last unload, the module that was there */
	ck_assert_str_eq(sym_name_at(s, BIAS + va, false, 50), "local_helper");
	b->unload_ns = 4000;
	sym_close(s);
	s = sym_open(&f.t);
	ck_assert_str_eq(sym_name_at(s, BIAS + vx, false, 5000), "ns::Widget::method(int)");
	/* no time: the module loaded last */
	ck_assert_str_eq(sym_name(s, BIAS + vx, false), "ns::Widget::method(int)");
	ck_assert_str_eq(sym_module_name(s, BIAS + vx), "progxx");
	sym_close(s);
}
END_TEST

/*
 * A library dlopened and dlclosed in a loop: 50,000 MODULE records over one range, two files
 * taking turns. Each time picks its own module, and set-up and lookups stay linear.
 */
START_TEST(reload_loop_many_records)
{
	enum { N = 50000 };
	struct trace_module *mods = calloc(N, sizeof(*mods));
	uint64_t va = nm_addr(in_dir("prog"), "local_helper", NULL);
	char *pa = strdup(in_dir("prog")), *px = strdup(in_dir("progxx"));
	struct timespec t0, t1;
	struct trace t;
	struct symbols *s;
	double cpu;
	int i;

	for (i = 0; i < N; i++)
		mods[i] = (struct trace_module){ .base = BIAS, .lo = BIAS, .hi = BIAS + SPAN,
						 .path = i % 2 ? px : pa,
						 .load_ns = (uint64_t)i * 10,
						 .unload_ns = (uint64_t)i * 10 + 5 };
	memset(&t, 0, sizeof(t));
	t.modules = mods;
	t.nmodules = N;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	s = sym_open(&t);
	for (i = 0; i < N; i += 249) {
		/* while loaded its own; between its unload and the next load, the next one's */
		const char *n = sym_name_at(s, BIAS + va, false, (uint64_t)i * 10 + 1);
		const char *m = sym_name_at(s, BIAS + va, false, (uint64_t)i * 10 + 7);

		if (i % 2 == 0 && (strcmp(n, "local_helper") || !strcmp(m, "local_helper")))
			ck_abort_msg("load %d: %s, then %s", i, n, m);
		if (i % 2 == 1 && (!strcmp(n, "local_helper") || strcmp(m, "local_helper")))
			ck_abort_msg("load %d: prog's name in progxx's time, or not after it", i);
	}
	/* without a time: the last loaded (progxx, index N - 1) */
	ck_assert_str_eq(sym_module_name(s, BIAS + va), "progxx");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	cpu = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(cpu < 1.0, "%.2f s of CPU for %d module records", cpu, N);
	sym_close(s);
	free(mods);
	free(pa);
	free(px);
}
END_TEST

/* ---- through a trace file: the reader's modules[] feed the symbolizer ---- */

struct seen_call {
	uint64_t addr, ns;
};

static int on_entry(const struct trace_event *ev, void *ctx)
{
	struct seen_call *calls = ctx;
	int i;

	if (ev->type != EV_ENTRY)
		return 0;
	for (i = 0; calls[i].addr; i++)
		;
	if (i < 7)
		calls[i] = (struct seen_call){ ev->addr, ev->ns };
	return 0;
}

/*
 * A synthetic trace: the main program recorded with an empty path (named through the PROCESS
 * record's exe), and a library range reused: prog's copy dlclosed, then progxx at the same
 * base. Each call is named from the module loaded when it happened.
 */
START_TEST(synthetic_trace_reloads)
{
	const uint64_t lib = 0x7f3400000000ULL;
	uint64_t va = nm_addr(in_dir("prog"), "local_helper", NULL);
	uint64_t vg = nm_addr(in_dir("prog"), "global_fn", NULL);
	uint64_t vx = nm_addr(in_dir("progxx"), "_ZN2ns6Widget6methodEi", NULL);
	struct seen_call calls[8] = { { 0 } };
	const char *path = in_dir("reload.bin");
	struct tg *g = tg_open(path);
	struct tg_thread *th = tg_thread(g, 77);
	struct trace *t;
	struct symbols *s;
	int i;

	tg_process(th, 77, 1, in_dir("prog"), "prog", 5);
	tg_module(th, BIAS, BIAS, BIAS + SPAN, NULL, 0, "", 10);
	tg_module(th, lib, lib, lib + SPAN, NULL, 0, in_dir("prog"), 20);
	tg_enter(th, BIAS + vg, 100);			/* main program */
	tg_enter(th, lib + va, 110);			/* prog's copy at lib */
	tg_exit(th, 120);
	tg_exit(th, 130);
	tg_unload(th, lib, 200);
	tg_module(th, lib, lib, lib + SPAN, NULL, 0, in_dir("progxx"), 300);
	tg_enter(th, lib + vx, 400);			/* progxx at lib */
	tg_exit(th, 410);
	tg_close(g);

	ck_assert_int_eq(trace_open(path, &t), 0);
	ck_assert_int_eq(trace_walk(t, WALK_CALLS, -1, on_entry, calls), 0);
	ck_assert_uint_eq(t->nmodules, 3);
	s = sym_open(t);
	for (i = 0; i < 3; i++)
		ck_assert_uint_ne(calls[i].addr, 0);
	ck_assert_str_eq(sym_name_at(s, calls[0].addr, false, calls[0].ns), "global_fn");
	ck_assert_str_eq(sym_module_name(s, calls[0].addr), "prog");
	ck_assert_str_eq(sym_name_at(s, calls[1].addr, false, calls[1].ns), "local_helper");
	ck_assert_str_eq(sym_name_at(s, calls[2].addr, false, calls[2].ns),
			 "ns::Widget::method(int)");
	/* the same address seen while prog's copy was loaded is not progxx's method */
	ck_assert_str_ne(sym_name_at(s, calls[2].addr, false, calls[1].ns),
			 "ns::Widget::method(int)");
	sym_close(s);
	trace_close(t);
}
END_TEST

/* ---- the test binary itself, at its real addresses ---- */

static int collect_mod(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct fake *f = arg;
	struct trace_module *m;
	uint64_t lo, hi;
	static char exe[512];

	if (f->t.nmodules == 16)
		return 1;
	tu_load_range(info, &lo, &hi);
	if (!info->dlpi_name[0]) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		exe[n > 0 ? n : 0] = '\0';
	}
	m = add_mod(f, info->dlpi_name[0] ? info->dlpi_name : exe, info->dlpi_addr);
	m->lo = lo;
	m->hi = hi;
	return 0;
}

static void *__attribute__((noinline)) grab_ra(void)
{
	return __builtin_return_address(0);
}

static unsigned ra_line;

static void *__attribute__((noinline)) ra_caller(void)
{
	void *ra = grab_ra(); ra_line = __LINE__;

	__asm__ volatile("" ::: "memory");	/* no tail call: ra stays inside ra_caller */
	return ra;
}

static int __attribute__((noinline)) probe_static(int x)
{
	return x * 7 + (int)getpid() % 3;
}

START_TEST(self_real_addresses)
{
	struct fake f;
	struct symbols *s;
	struct sym_info si;
	uint64_t ra = (uintptr_t)ra_caller();
	void *vdso;

	memset(&f, 0, sizeof(f));
	dl_iterate_phdr(collect_mod, &f);
	ck_assert_uint_gt(f.t.nmodules, 2);
	s = sym_open(&f.t);
	ck_assert_str_eq(sym_name(s, (uintptr_t)probe_static, false), "probe_static");
	ck_assert_int_eq(strncmp(sym_module_name(s, (uintptr_t)probe_static), "test-symbols", 12), 0);
	ck_assert_int_eq(sym_resolve(s, ra, true, &si), 0);
	ck_assert_str_eq(si.name, "ra_caller");
	ck_assert_str_eq(strrchr(si.file, '/') ? strrchr(si.file, '/') + 1 : si.file,
			 "test-symbols.c");
	ck_assert_uint_eq(si.line, ra_line);
	/* this kernel's vDSO, read from memory */
	vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
	ck_assert_ptr_nonnull(vdso);
	ck_assert_ptr_nonnull(dlsym(vdso, "__vdso_clock_gettime"));
	ck_assert_str_eq(sym_name(s, (uintptr_t)dlsym(vdso, "__vdso_clock_gettime"), false),
			 "__vdso_clock_gettime");
	ck_assert_str_eq(sym_module_name(s, (uintptr_t)dlsym(vdso, "__vdso_clock_gettime")),
			 "linux-vdso.so.1");
	/* a shared library's exported function */
	ck_assert_str_eq(sym_name(s, (uintptr_t)dwarf_begin_elf, false), "dwarf_begin_elf");
	ck_assert_str_eq(sym_module_name(s, (uintptr_t)dwarf_begin_elf), "libdw.so.1");
	sym_close(s);
}
END_TEST

/* The cache hands out the same string, and repeated lookups stay fast. */
START_TEST(cache_and_speed)
{
	const char *prog = in_dir("prog");
	uint64_t va = nm_addr(prog, "local_helper", NULL);
	struct timespec t0, t1;
	struct fake f;
	struct symbols *s = open1(&f, prog);
	const char *first = sym_name(s, BIAS + va, false);
	long i, n = 2000000, nulls = 0;
	double secs;

	ck_assert_ptr_eq(sym_name(s, BIAS + va, false), first);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* no ck_assert in the loop: each one is a write to Check's pipe */
	for (i = 0; i < n; i++)
		nulls += !sym_name(s, BIAS + va + (i & 0xfff), i & 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "test-symbols: %ld cached lookups over 8192 keys: %.1f M/s\n", n,
		n / secs / 1e6);
	ck_assert_int_eq(nulls, 0);
	ck_assert_ptr_eq(sym_name(s, BIAS + va, false), first);
	sym_close(s);
}
END_TEST

static Suite *symbols_suite(void)
{
	Suite *su = suite_create("symbols");
	TCase *tc = tcase_create("symbols");

	tcase_add_unchecked_fixture(tc, fixture_up, fixture_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, static_function_pie);
	tcase_add_test(tc, dwarf_lines);
	tcase_add_test(tc, return_address_minus_one);
	tcase_add_test(tc, zero_size_and_inner_labels);
	tcase_add_test(tc, cxx_demangled);
	tcase_add_test(tc, stripped_gives_module_offset);
	tcase_add_test(tc, debuglink_next_to_file);
	tcase_add_test(tc, debuglink_crc_mismatch);
	tcase_add_test(tc, debug_by_build_id);
	tcase_add_test(tc, missing_file_debug_by_recorded_id);
	tcase_add_test(tc, build_id_mismatch_warns_once);
	tcase_add_test(tc, changed_file_named_from_recorded_debug);
	tcase_add_test(tc, outside_every_module);
	tcase_add_test(tc, garbage_files);
	tcase_add_test(tc, fuzzed_elf);
	tcase_add_test(tc, reused_range_by_time);
	tcase_add_test(tc, many_modules_bounded_fds);
	tcase_add_test(tc, synthetic_trace_reloads);
	tcase_add_test(tc, reload_loop_many_records);
	tcase_add_test(tc, self_real_addresses);
	tcase_add_test(tc, cache_and_speed);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	int failed = tu_run(symbols_suite());

	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
