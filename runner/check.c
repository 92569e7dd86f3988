/* SPDX-License-Identifier: MIT */
/*
 * Before running: can the program be preloaded at all? The dynamic loader is what reads
 * LD_PRELOAD, so a static program never sees the library, and a set-user-ID or set-group-ID
 * one (or one with file capabilities) runs in secure mode, where LD_PRELOAD is ignored. Both
 * would run "fine" and leave no trace; saying so up front is kinder.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "runner/runner.h"

#define MAX_PHNUM 4096

/* Read exactly @len bytes at @off. Return: 0, or -1. */
static int read_at(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	return n == (ssize_t)len ? 0 : -1;
}

/*
 * Whether the ELF file on @fd has a PT_INTERP program header (is dynamically linked).
 * Return: 1 yes, 0 no, -1 when the headers cannot be read (not for us to judge).
 */
static int has_interp(int fd, const unsigned char *ident)
{
	union {				/* p_type is the first field of both */
		Elf32_Phdr p32;
		Elf64_Phdr p64;
	} ph;
	uint64_t phoff;
	unsigned phnum, phentsize, phsize, i;

	if (ident[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;

		if (read_at(fd, &eh, sizeof(eh), 0) < 0)
			return -1;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		phsize = sizeof(ph.p64);
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;

		if (read_at(fd, &eh, sizeof(eh), 0) < 0)
			return -1;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		phsize = sizeof(ph.p32);
	} else {
		return -1;
	}
	if (phentsize < phsize || phnum > MAX_PHNUM)
		return -1;
	for (i = 0; i < phnum; i++) {
		if (read_at(fd, &ph, phsize, (off_t)(phoff + (uint64_t)i * phentsize)))
			return -1;
		if (ph.p32.p_type == PT_INTERP)
			return 1;
	}
	return 0;
}

/*
 * The interpreter named by a "#!" line: the first word after "#!". Return: 0 with @out
 * filled, -1 when the line names none.
 */
static int shebang(const char *buf, size_t n, char *out, size_t len)
{
	size_t i = 2, j = 0;

	while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	while (i < n && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\0') {
		if (j + 1 >= len)
			return -1;
		out[j++] = buf[i++];
	}
	out[j] = '\0';
	return j ? 0 : -1;
}

/* One line: which file cannot be preloaded (and whose interpreter it is), and why. */
static int refuse(const char *prog, const char *path, int depth, const char *why)
{
	if (depth)
		fprintf(stderr, "%s: %s, the interpreter of %s, %s\n", progname, path, prog, why);
	else
		fprintf(stderr, "%s: %s %s\n", progname, path, why);
	return -1;
}

/* Check one file; @depth counts the "#!" levels followed. */
static int check_file(const char *prog, const char *path, int depth)
{
	unsigned char ident[EI_NIDENT];
	char buf[256], interp[4096];
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* execvp says why it cannot run it */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (st.st_mode & (S_ISUID | S_ISGID)) {
		close(fd);
		return refuse(prog, path, depth,
			      "is set-user-ID or set-group-ID: the loader ignores LD_PRELOAD for it, "
			      "so it cannot be recorded");
	}
	if (fgetxattr(fd, "security.capability", NULL, 0) > 0) {
		close(fd);
		return refuse(prog, path, depth,
			      "has file capabilities: the loader ignores LD_PRELOAD for it, so it "
			      "cannot be recorded");
	}
	n = pread(fd, buf, sizeof(buf), 0);
	if (n >= 2 && buf[0] == '#' && buf[1] == '!') {
		close(fd);
		/* one level: the kernel itself does not run a script as an interpreter */
		if (depth > 0 || shebang(buf, (size_t)n, interp, sizeof(interp)) < 0)
			return 0;
		return check_file(prog, interp, depth + 1);
	}
	if (n < (ssize_t)sizeof(ident) || memcmp(buf, ELFMAG, SELFMAG) != 0) {
		close(fd);
		return 0;	/* no ELF: a shell script without "#!" runs under /bin/sh */
	}
	memcpy(ident, buf, sizeof(ident));
	r = has_interp(fd, ident);
	close(fd);
	if (r == 0)
		return refuse(prog, path, depth,
			      "is statically linked: no dynamic loader reads LD_PRELOAD, so it "
			      "cannot be recorded");
	return 0;
}

int find_in_path(const char *prog, char *out, size_t len)
{
	const char *path, *p, *colon;
	struct stat st;

	if (strchr(prog, '/')) {
		if (strlen(prog) >= len)
			return -1;
		strcpy(out, prog);
		return 0;
	}
	path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";	/* glibc's default for execvp */
	for (p = path;; p = colon + 1) {
		size_t dlen;

		colon = strchrnul(p, ':');
		dlen = (size_t)(colon - p);
		/* an empty entry is the working directory */
		if (snprintf(out, len, "%.*s%s%s", (int)dlen, p, dlen ? "/" : "", prog) <
			    (int)len &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		if (!*colon)
			break;
	}
	return -1;
}

int check_program(const char *prog)
{
	char path[4096];

	if (find_in_path(prog, path, sizeof(path)) < 0)
		return 0;
	return check_file(prog, path, 0);
}
