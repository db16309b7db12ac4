/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The listening socket: directory 0750, socket 0660, owner root (the
 * daemon), group the control group; and who may connect: root, the
 * daemon's own user, or a member of the control group, by the kernel's
 * account of the peer (SO_PEERCRED), never by anything the client says.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlsrv_int.h"

#define LISTEN_BACKLOG 64
#define GROUPS_MAX     256

static int
fail(struct espgw_err *err, const char *what, const char *path)
{
	snprintf(err->msg, sizeof(err->msg), "control socket %s: %s: %s", path, what,
			strerror(errno));
	return -1;
}

static int
group_resolve(struct espgw_ctlsrv *srv, const char *name, struct espgw_err *err)
{
	struct group *g;

	srv->has_group = name != NULL && strcmp(name, "root") != 0;
	srv->gid = 0;
	if (!srv->has_group)
		return 0;
	g = getgrnam(name);
	if (g == NULL) {
		snprintf(err->msg, sizeof(err->msg), "control group %s does not exist", name);
		return -1;
	}
	srv->gid = g->gr_gid;
	return 0;
}

/*
 * Somebody who may write to the directory could swap the socket for a link
 * between its creation and its chown: the directory must be ours (or
 * root's), a real directory, and writable by nobody else.
 */
static int
dir_check(const char *dir, struct espgw_err *err)
{
	struct stat st;

	if (lstat(dir, &st) != 0)
		return fail(err, "cannot stat its directory", dir);
	if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
			(st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err->msg, sizeof(err->msg),
				"control socket directory %s must be a directory of root (or "
				"espgw's user) that group and others cannot write",
				dir);
		return -1;
	}
	return 0;
}

/* The socket's directory: created 0750 (root and the control group) when missing. */
static int
dir_make(const struct espgw_ctlsrv *srv, struct espgw_err *err)
{
	char dir[sizeof(srv->path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", srv->path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0) {
		if (errno == EEXIST)
			return dir_check(dir, err);
		return fail(err, "cannot create its directory", dir);
	}
	if (srv->has_group && chown(dir, (uid_t)-1, srv->gid) != 0)
		return fail(err, "cannot give its directory to the control group", dir);
	return 0;
}

/* An existing socket file: in use by a live server (refuse), else stale (remove). */
static int
stale_remove(const struct sockaddr_un *sa, struct espgw_err *err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return fail(err, "socket", sa->sun_path);
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		snprintf(err->msg, sizeof(err->msg),
				"control socket %s: another process serves it (another espgw?)",
				sa->sun_path);
		return -1;
	}
	if (unlink(sa->sun_path) != 0 && errno != ENOENT)
		return fail(err, "cannot remove the old socket", sa->sun_path);
	return 0;
}

static int
bind_listen(struct espgw_ctlsrv *srv, const struct sockaddr_un *sa, struct espgw_err *err)
{
	mode_t old;
	int rc;

	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0)
		return fail(err, "socket", srv->path);
	/* Created 0660 at once: no moment where others may connect. */
	old = umask(0117);
	rc = bind(srv->fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (rc != 0)
		return fail(err, "bind", srv->path);
	if (srv->has_group && lchown(srv->path, (uid_t)-1, srv->gid) != 0)
		return fail(err, "cannot give it to the control group", srv->path);
	if (listen(srv->fd, LISTEN_BACKLOG) != 0)
		return fail(err, "listen", srv->path);
	return 0;
}

int
ctl_socket_open(struct espgw_ctlsrv *srv, const struct espgw_ctlsrv_conf *conf,
		struct espgw_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;

	srv->fd = -1;
	if (strlen(conf->path) >= sizeof(sa.sun_path)) {
		snprintf(err->msg, sizeof(err->msg), "control socket path longer than %zu bytes",
				sizeof(sa.sun_path) - 1);
		return -1;
	}
	snprintf(srv->path, sizeof(srv->path), "%s", conf->path);
	memcpy(sa.sun_path, srv->path, sizeof(srv->path));
	if (group_resolve(srv, conf->group, err) < 0 || dir_make(srv, err) < 0)
		return -1;
	if (lstat(srv->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(err->msg, sizeof(err->msg), "control socket %s: exists and is no socket",
				srv->path);
		return -1;
	}
	if (stale_remove(&sa, err) < 0 || bind_listen(srv, &sa, err) < 0) {
		ctl_socket_close(srv);
		return -1;
	}
	return 0;
}

void
ctl_socket_close(struct espgw_ctlsrv *srv)
{
	if (srv->fd < 0)
		return;
	close(srv->fd);
	srv->fd = -1;
	unlink(srv->path);
}

/* Is uid a member of gid, by its primary or supplementary groups? */
static bool
user_in_group(uid_t uid, gid_t gid)
{
	char buf[4096];
	struct passwd pw, *p = NULL;
	gid_t groups[GROUPS_MAX];
	int n = GROUPS_MAX, i;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &p) != 0 || p == NULL)
		return false;
	if (p->pw_gid == gid)
		return true;
	if (getgrouplist(p->pw_name, p->pw_gid, groups, &n) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

bool
ctl_peer_allowed(const struct espgw_ctlsrv *srv, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof(cr))
		return false;
	if (cr.uid == 0 || cr.uid == geteuid())
		return true;
	return srv->has_group && (cr.gid == srv->gid || user_in_group(cr.uid, srv->gid));
}
