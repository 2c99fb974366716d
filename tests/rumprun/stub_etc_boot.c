/* Boot check for mkimage --stub-etc (run by stub_etc_boot.sh): copy an /etc extracted from an
 * image over rumprun's own, then look users, groups, services, protocols and hosts up with
 * NetBSD's libc. SPDX-License-Identifier: BSD-2-Clause */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void install(const char* from_dir) {
  DIR* d = opendir(from_dir);
  struct dirent* e;
  char from[256], to[256], buf[65536];
  if (d == NULL) {
    printf("no %s\n", from_dir);
    return;
  }
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(from, sizeof from, "%s/%s", from_dir, e->d_name);
    snprintf(to, sizeof to, "/etc/%s", e->d_name);
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) write(out, buf, (size_t)n);
    close(in);
    close(out);
  }
  closedir(d);
}

static void show(const char* what, struct passwd* p) {
  if (p == NULL) {
    printf("%s: not found\n", what);
    return;
  }
  printf("%s: %s uid=%u gid=%u gecos='%s' dir=%s shell=%s change=%lld expire=%lld\n", what,
         p->pw_name, (unsigned)p->pw_uid, (unsigned)p->pw_gid, p->pw_gecos, p->pw_dir, p->pw_shell,
         (long long)p->pw_change, (long long)p->pw_expire);
}

static void lookups(void) {
  struct passwd* p;
  show("getpwnam(root)", getpwnam("root"));
  show("getpwnam(app)", getpwnam("app"));
  show("getpwuid(32767)", getpwuid(32767));
  show("getpwnam(daemon)", getpwnam("daemon"));
  show("getpwnam(www)", getpwnam("www"));
  show("getpwuid(80)", getpwuid(80));
  show("getpwnam(nosuch)", getpwnam("nosuch"));
  printf("getpwent:");
  setpwent();
  while ((p = getpwent()) != NULL) printf(" %s(%u)", p->pw_name, (unsigned)p->pw_uid);
  endpwent();
  printf("\n");
  struct group* g = getgrnam("app");
  printf("getgrnam(app): %s\n", g ? "found" : "not found");
  if (g) printf("  gid=%u member=%s\n", (unsigned)g->gr_gid, g->gr_mem[0] ? g->gr_mem[0] : "-");
  struct servent* s = getservbyname("https", "tcp");
  printf("getservbyname(https/tcp): %d\n", s ? ntohs((unsigned short)s->s_port) : -1);
  s = getservbyport(htons(53), "udp");
  printf("getservbyport(53/udp): %s\n", s ? s->s_name : "not found");
  struct protoent* pr = getprotobyname("udp");
  printf("getprotobyname(udp): %d\n", pr ? pr->p_proto : -1);
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  int r = getaddrinfo("localhost", "http", &hints, &ai);
  printf("getaddrinfo(localhost, http): %s", r == 0 ? "ok" : gai_strerror(r));
  if (r == 0) printf(" port %d", ntohs(((struct sockaddr_in*)ai->ai_addr)->sin_port));
  printf("\n");
}

int main(void) {
  printf("== rumprun's own /etc\n");
  show("getpwnam(root)", getpwnam("root"));
  printf("== --stub-etc\n");
  install("/stub/etc");
  lookups();
  printf("== --stub-etc with a master.passwd of the source's\n");
  install("/user/etc");
  lookups();
  printf("DONE\n");
  return 0;
}
