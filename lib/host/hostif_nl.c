/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel side of a host interface gets the port's addresses through
 * rtnetlink (RTM_NEWADDR, rtnetlink(7)), one request per address, each
 * acknowledged. Hand-written because DPDK's tap driver creates the interface
 * and sets its MTU and link state but offers nothing for addresses, and an
 * "ip addr add" child process per address would need a shell, a PATH and
 * error strings to parse. Runs once per address at startup, on the main
 * lcore: never on the data path.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host_int.h"

struct addr_req {
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	char attrs[2 * RTA_SPACE(16)];
};

static void
attr_put(struct addr_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/*
 * IFA_LOCAL and IFA_ADDRESS both the address, as "ip addr add" sends them:
 * on a point-to-point device a different IFA_ADDRESS would name a peer, and
 * the prefix route would not be made. IPv6: no duplicate address detection,
 * the address is ours by configuration (and a tun device has no link to
 * probe).
 */
static void
addr_req_fill(struct addr_req *r, unsigned int ifindex, const struct espgw_prefix *p)
{
	size_t alen = p->ip.family == ESPGW_AF_INET ? 4 : 16;

	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(r->ifa));
	r->nh.nlmsg_type = RTM_NEWADDR;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	r->nh.nlmsg_seq = 1;
	r->ifa.ifa_family = p->ip.family == ESPGW_AF_INET ? AF_INET : AF_INET6;
	r->ifa.ifa_prefixlen = p->len;
	r->ifa.ifa_flags = IFA_F_PERMANENT | (p->ip.family == ESPGW_AF_INET6 ? IFA_F_NODAD : 0);
	r->ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	r->ifa.ifa_index = ifindex;
	attr_put(r, IFA_LOCAL, p->ip.bytes, alen);
	attr_put(r, IFA_ADDRESS, p->ip.bytes, alen);
}

/* The kernel's answer to our one request: 0, or its negative errno. */
static int
ack_read(int fd)
{
	char buf[512];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n < 0)
		return -errno;
	if (!NLMSG_OK(nh, (size_t)n) || nh->nlmsg_type != NLMSG_ERROR ||
			nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return -EPROTO;
	return ((const struct nlmsgerr *)NLMSG_DATA(nh))->error;
}

int
host_if_addr_add(const char *ifname, const struct espgw_prefix *p)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	unsigned int ifindex = if_nametoindex(ifname);
	struct addr_req r;
	int fd, rc;

	if (ifindex == 0)
		return -errno;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	addr_req_fill(&r, ifindex, p);
	if (sendto(fd, &r, r.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		rc = -errno;
	else
		rc = ack_read(fd);
	close(fd);
	return rc;
}
