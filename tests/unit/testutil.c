// SPDX-License-Identifier: MIT
/*
 * Helpers the unit tests share; testutil.h describes them. Every failure is a Check
 * assertion, so a broken helper fails the test that used it.
 */
#define PR_FMT "test"

#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/testutil.h"

void tu_tmpfile(char *buf, const char *name)
{
	int fd;

	snprintf(buf, 64, "/tmp/%s.XXXXXX", name);
	fd = mkstemp(buf);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

char *tu_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, n, f), n);
	fclose(f);
	return buf;
}

struct opts tu_opts(void)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	o.limit = -1;
	o.depth = -1;
	o.demangle = 1;
	return o;
}

char *tu_capture(tu_report_fn fn, struct trace *t, const struct opts *o, const char *path,
		 int *rc)
{
	int saved, fd;

	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 1);
	close(fd);
	*rc = fn(t, o);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	return tu_slurp(path);
}

char *tu_report(tu_report_fn fn, const char *trace, const struct opts *o, const char *path,
		int *rc)
{
	struct trace *t;
	char *text;

	ck_assert_int_eq(trace_open(trace, &t), 0);
	text = tu_capture(fn, t, o, path, rc);
	trace_close(t);
	return text;
}

struct mod_find {
	uint64_t addr, base, lo, hi;
	char path[512];
};

void tu_load_range(const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi)
{
	int i;

	*lo = UINT64_MAX;
	*hi = 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < *lo)
			*lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > *hi)
			*hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
}

static int find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct mod_find *m = arg;
	uint64_t lo, hi;

	tu_load_range(info, &lo, &hi);
	if (m->addr < lo || m->addr >= hi)
		return 0;
	m->base = info->dlpi_addr;
	m->lo = lo;
	m->hi = hi;
	if (info->dlpi_name && info->dlpi_name[0]) {
		snprintf(m->path, sizeof(m->path), "%s", info->dlpi_name);
	} else {	/* the executable: dl_iterate_phdr gives no name */
		ssize_t n = readlink("/proc/self/exe", m->path, sizeof(m->path) - 1);

		ck_assert_int_gt(n, 0);
		m->path[n] = '\0';
	}
	return 1;
}

void tu_module_of(struct tg_thread *th, uint64_t addr, uint64_t ticks)
{
	struct mod_find m = { .addr = addr };

	ck_assert_int_eq(dl_iterate_phdr(find_cb, &m), 1);
	tg_module(th, m.base, m.lo, m.hi, "", 0, m.path, ticks);
}

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
