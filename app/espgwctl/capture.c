/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * espgwctl capture PORT|SA FILE ...: FILE is created here, with the rights of
 * whoever runs espgwctl (O_EXCL: never an existing file, never through a
 * link), and passed open to espgw with the request (SCM_RIGHTS). espgw runs
 * as root; this way it never opens a path that a client names, and a member
 * of the control group cannot make it write where that member could not.
 * The request names FILE by its absolute path, for "capture status" and
 * espgw's log.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espgwctl.h"

bool
ctl_capture_starts(int argc, char *const argv[])
{
	return argc >= 3 && strcmp(argv[0], "capture") == 0;
}

/* path made absolute into abs (the current directory in front): 0, or -1 reported. */
static int
absolute(const char *path, char abs[PATH_MAX])
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(abs, PATH_MAX, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		n = snprintf(abs, PATH_MAX, "%s/%s", cwd, path);
	else
		n = -1;
	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "espgwctl: %s: cannot name it by an absolute path\n", path);
		return -1;
	}
	return 0;
}

int
ctl_capture_create(const char *path, char abs[PATH_MAX])
{
	int fd;

	if (absolute(path, abs) < 0)
		return -1;
	/* 0600: an SA's capture holds decrypted traffic. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		fprintf(stderr, "espgwctl: cannot create %s: %s\n", path, strerror(errno));
	return fd;
}

void
ctl_capture_done(int fd, const char *path)
{
	struct stat st;

	/* espgw writes the pcapng header when it takes the file: empty, it did not. */
	if (fstat(fd, &st) == 0 && st.st_size == 0)
		unlink(path);
	close(fd);
}
