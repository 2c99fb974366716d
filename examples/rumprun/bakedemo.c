/* bakedemo: a small rumprun program that shows what a bakefs image at `/` gives it.
 *
 *   bakedemo [--motd FILE] [--user NAME]
 *
 * It prints its arguments and environment (from the launch configuration, the image's or the
 * boot command line's), the host name, the root directory, FILE, getpwnam/getpwuid/getgrgid
 * results, and writes a file into /var/run (a tmpfs the image asks for at boot).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char** environ;

/* Exported by librumpfs_bakefs; weak, so the program also links and runs without it. */
int rump_bakefs_root_mounted(void) __attribute__((weak));

static void list_dir(const char* path) {
  DIR* dir = opendir(path);
  if (dir == NULL) {
    printf("opendir %s: %s\n", path, strerror(errno));
    return;
  }
  printf("ls %s:", path);
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
      printf(" %s", entry->d_name);
  }
  printf("\n");
  closedir(dir);
}

static void print_file(const char* path) {
  FILE* file = fopen(path, "r");
  if (file == NULL) {
    printf("open %s: %s\n", path, strerror(errno));
    return;
  }
  printf("--- %s\n", path);
  char line[256];
  while (fgets(line, sizeof line, file) != NULL) fputs(line, stdout);
  fclose(file);
}

static void show_user(const char* name) {
  errno = 0;
  struct passwd* pw = getpwnam(name);
  if (pw == NULL) {
    printf("getpwnam(\"%s\"): not found (errno %d)\n", name, errno);
    return;
  }
  printf("getpwnam(\"%s\"): uid=%u gid=%u dir=%s shell=%s gecos=\"%s\"\n", name,
         (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, pw->pw_dir, pw->pw_shell, pw->pw_gecos);
}

static void fs_type(const char* path) {
  struct statvfs sv;
  if (statvfs(path, &sv) == 0)
    printf("%s: %s, %s\n", path, sv.f_fstypename, (sv.f_flag & ST_RDONLY) ? "read-only" : "writable");
  else
    printf("statvfs %s: %s\n", path, strerror(errno));
}

static void write_pid_file(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1) {
    printf("create %s: %s\n", path, strerror(errno));
    return;
  }
  char text[32];
  int length = snprintf(text, sizeof text, "%d\n", (int)getpid());
  ssize_t written = write(fd, text, (size_t)length);
  close(fd);
  printf("wrote %s (%zd bytes)\n", path, written);
}

int main(int argc, char** argv) {
  const char* motd = NULL;
  const char* user = NULL;

  printf("argc=%d", argc);
  for (int i = 0; i < argc; i++) printf(" argv[%d]=%s", i, argv[i]);
  printf("\n");
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--motd") == 0) motd = argv[++i];
    else if (strcmp(argv[i], "--user") == 0) user = argv[++i];
  }
  for (char** env = environ; *env != NULL; env++) printf("env %s\n", *env);

  char host[256];
  if (gethostname(host, sizeof host) == 0) printf("hostname=%s\n", host);
  if (rump_bakefs_root_mounted != NULL)
    printf("bakefs image at /: %s\n", rump_bakefs_root_mounted() ? "yes" : "no");

  fs_type("/");
  list_dir("/");
  if (motd != NULL) print_file(motd);

  show_user("root");
  if (user != NULL) show_user(user);
  struct passwd* pw = getpwuid(0);
  printf("getpwuid(0): %s\n", pw != NULL ? pw->pw_name : "not found");
  struct group* gr = getgrgid(0);
  printf("getgrgid(0): %s\n", gr != NULL ? gr->gr_name : "not found");

  fs_type("/var/run");
  write_pid_file("/var/run/bakedemo.pid");
  print_file("/var/run/bakedemo.pid");
  return 0;
}
