/* Boot check for mkimage --base-etc (run by base_etc_boot.sh): a rumprun unikernel whose `/`
 * is an image with rumprun's base /etc merged in by bakefs.mk (rumprun's own librumprunfs_base
 * left out of the bake). Looks users, groups and services up with NetBSD's libc, reads the
 * image's own /etc/hosts (which wins over rumprun's), and checks that /etc is the read-only
 * image. SPDX-License-Identifier: BSD-2-Clause */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void user(const char* name) {
  struct passwd* p = getpwnam(name);
  if (p == NULL) {
    printf("getpwnam(%s): not found\n", name);
    return;
  }
  printf("getpwnam(%s): uid=%u gid=%u gecos='%s' dir=%s shell=%s\n", name, (unsigned)p->pw_uid,
         (unsigned)p->pw_gid, p->pw_gecos, p->pw_dir, p->pw_shell);
}

int main(void) {
  user("root");
  user("daemon");
  user("nosuchuser");
  struct group* g = getgrgid(1);
  printf("getgrgid(1): %s\n", g != NULL ? g->gr_name : "not found");
  struct servent* s = getservbyname("http", "tcp");
  printf("getservbyname(http/tcp): %d\n", s != NULL ? ntohs(s->s_port) : -1);
  struct protoent* pr = getprotobyname("udp");
  printf("getprotobyname(udp): %d\n", pr != NULL ? pr->p_proto : -1);
  char line[128] = {0};
  FILE* f = fopen("/etc/hosts", "r");
  if (f != NULL && fgets(line, sizeof(line), f) != NULL) line[strcspn(line, "\n")] = '\0';
  if (f != NULL) fclose(f);
  printf("/etc/hosts: %s\n", line);
  struct statvfs st;
  if (statvfs("/etc", &st) == 0) {
    printf("/etc: %s, %s\n", st.f_fstypename, (st.f_flag & ST_RDONLY) ? "read-only" : "writable");
  }
  /* A second image linked in (mkimage --mount-at /app). */
  memset(line, 0, sizeof(line));
  f = fopen("/app/hello.txt", "r");
  if (f != NULL && fgets(line, sizeof(line), f) != NULL) line[strcspn(line, "\n")] = '\0';
  if (f != NULL) fclose(f);
  printf("/app/hello.txt: %s\n", line);
  if (statvfs("/app", &st) == 0) {
    printf("/app: %s, %s\n", st.f_fstypename, (st.f_flag & ST_RDONLY) ? "read-only" : "writable");
  }
  int fd = open("/etc/new", O_WRONLY | O_CREAT, 0644);
  printf("create /etc/new: %s\n", fd < 0 ? strerror(errno) : "created");
  printf("DONE\n");
  return 0;
}
