// SPDX-License-Identifier: MIT
/*
 * The table of interposed functions and its resolver (preload/interpose.c), linked into this
 * program, not preloaded: dlsym(RTLD_NEXT) from here finds libc's definitions, which are
 * what the slots must hold. Cases: the constructor resolved every CTOR entry and said
 * nothing; a LAZY entry is resolved at its first ps_real() and keeps errno; the BOOT group
 * resolves the malloc family; an optional entry the process lacks (__cxa_begin_catch in a C
 * program) stays NULL quietly; a required entry that cannot be found is said once, in one
 * line, and resolving it again says nothing more; a slot not in the table resolves to NULL.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload/interpose.h"
#include "preload/thread.h"

/* What interpose.c needs from the rest of the library, here; ps_log keeps its lines. */
__thread struct ps_thread ps_self PS_TLS;
static char said[1024];
static int nsaid;

void ps_signals_release(struct ps_thread *t) { t->sig.held = 0; }

void ps_log(const char *fmt, ...)
{
	size_t n = strlen(said);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(said + n, sizeof(said) - n, fmt, ap);
	va_end(ap);
	n = strlen(said);
	snprintf(said + n, sizeof(said) - n, "\n");
	nsaid++;
}

static void *libc(const char *name)
{
	return dlsym(RTLD_DEFAULT, name);
}

START_TEST(test_ctor_group)
{
	/* interpose.c's constructor ran before main: every CTOR entry is libc's, none said */
	ck_assert_ptr_nonnull(ps_real_execve);
	ck_assert_ptr_eq((void *)ps_real_execve, libc("execve"));
	ck_assert_ptr_eq((void *)ps_real_posix_spawnp, libc("posix_spawnp"));
	ck_assert_ptr_eq((void *)ps_real_siglongjmp, libc("siglongjmp"));
	ck_assert_ptr_eq(ps_real___sigsetjmp, libc("__sigsetjmp"));
	ck_assert_ptr_eq((void *)ps_real__exit, libc("_exit"));
	ck_assert_int_eq(ps_interpose_group(PS_IP_CTOR), 0);
	ck_assert_int_eq(nsaid, 0);
	/* the BOOT and LAZY entries are not the constructor's */
	ck_assert_ptr_null(ps_real_malloc);
	ck_assert_ptr_null(ps_real_dlopen);
}
END_TEST

START_TEST(test_lazy_first_use)
{
	int (*f)(int[2], int);

	ck_assert_ptr_null(ps_real_pipe2);
	errno = 1234;
	f = ps_real(pipe2);
	ck_assert_int_eq(errno, 1234);
	ck_assert_ptr_eq((void *)f, libc("pipe2"));
	ck_assert_ptr_eq((void *)ps_real_pipe2, libc("pipe2"));
	ck_assert_int_eq(ps_self.guard, 0);		/* taken around dlsym, and dropped */
	ck_assert_int_eq(nsaid, 0);
}
END_TEST

START_TEST(test_boot_group)
{
	ck_assert_int_eq(ps_interpose_group(PS_IP_BOOT), 0);
	ck_assert_ptr_eq((void *)ps_real_malloc, libc("malloc"));
	ck_assert_ptr_eq((void *)ps_real_malloc_usable_size, libc("malloc_usable_size"));
	ck_assert_ptr_null(ps_real_dlclose);		/* another group's */
}
END_TEST

START_TEST(test_optional_missing)
{
	/* a C program without libstdc++ has no __cxa_begin_catch (a sanitizer runtime may
	 * bring one): the slot is what the process has, NULL without a word */
	ck_assert_ptr_eq((void *)ps_real(__cxa_begin_catch), libc("__cxa_begin_catch"));
	ck_assert_int_eq(nsaid, 0);
}
END_TEST

START_TEST(test_required_missing)
{
	static void *slot;
	struct ps_interpose_entry e = { "perfshim_no_such_function", &slot,
					PS_IP_LAZY | PS_IP_REQUIRED, 0 };
	struct ps_interpose_entry opt = { "perfshim_no_such_function", &slot, PS_IP_LAZY, 0 };

	ck_assert_int_eq(ps_interpose_entry(&opt), 0);
	ck_assert_int_eq(nsaid, 0);
	ck_assert_int_eq(ps_interpose_entry(&e), 1);
	ck_assert_int_eq(ps_interpose_entry(&e), 1);	/* looked for again, said once */
	ck_assert_ptr_null(slot);
	ck_assert_int_eq(nsaid, 1);
	ck_assert_str_eq(said, "unable to find the real perfshim_no_such_function "
			       "(no definition after libperfshim.so)\n");
}
END_TEST

START_TEST(test_not_in_table)
{
	static void *stray;

	ck_assert_ptr_null(ps_interpose_resolve(&stray));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("preload-interpose");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_ctor_group);
	tcase_add_test(tc, test_lazy_first_use);
	tcase_add_test(tc, test_boot_group);
	tcase_add_test(tc, test_optional_missing);
	tcase_add_test(tc, test_required_missing);
	tcase_add_test(tc, test_not_in_table);
	suite_add_tcase(s, tc);
	return s;
}

/* fork mode: each test starts from the state the constructor left */
int main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_set_fork_status(r, CK_FORK);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
