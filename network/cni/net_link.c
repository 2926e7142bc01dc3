/* Removing the bridge once its last port is gone. The bridge plugin creates the bridge on first ADD but
 * never deletes it (other containers may still use it); cshim's bridge would otherwise stay, with the
 * gateway address and the subnet route on the host, after the last container left. The caller holds the
 * library's lock, so no cshim ADD can put a port on the bridge between the check and the delete. */
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net_cni_int.h"

static bool has_ports(const char *brif) {
  DIR *d = opendir(brif);
  if (!d) return true; /* cannot tell: keep it */
  struct dirent *e;
  bool any = false;
  while (!any && (e = readdir(d))) any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return any;
}

static int rtnl_del_link(unsigned idx, const char *name, cs_err *err) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return cs_err_sys(err, errno, "netlink socket");
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
  } req;
  memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifi);
  req.nh.nlmsg_type = RTM_DELLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.nh.nlmsg_seq = 1;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = (int)idx;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    int e = errno;
    close(fd);
    return cs_err_sys(err, e, "netlink delete %s", name);
  }
  char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
  ssize_t n;
  do n = recv(fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  int e = n < 0 ? errno : 0;
  close(fd);
  if (n < 0) return cs_err_sys(err, e, "netlink delete %s", name);
  for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
    if (h->nlmsg_type != NLMSG_ERROR) continue;
    const struct nlmsgerr *ne = NLMSG_DATA(h);
    if (ne->error == 0 || ne->error == -ENODEV) return 0; /* ENODEV: someone else removed it first */
    return cs_err_sys(err, -ne->error, "delete bridge %s", name);
  }
  return cs_err_set(err, CS_INTERNAL, "delete bridge %s: no netlink acknowledgement", name);
}

int net_link_remove_idle_bridge(const char *name, bool *deleted, cs_err *err) {
  *deleted = false;
  char p[128];
  struct stat st;
  if (!name || strlen(name) >= IFNAMSIZ || strchr(name, '/')) return 0;
  snprintf(p, sizeof p, "/sys/class/net/%s/bridge", name);
  if (stat(p, &st) != 0) return 0; /* no such link, or not a bridge: not ours to touch */
  snprintf(p, sizeof p, "/sys/class/net/%s/brif", name);
  if (has_ports(p)) return 0;
  unsigned idx = if_nametoindex(name);
  if (idx == 0) return 0;
  if (rtnl_del_link(idx, name, err) != 0) return -1;
  *deleted = true;
  return 0;
}
