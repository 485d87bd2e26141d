/*
 * The early sandbox, spawned by the front before node has even started.
 *
 * src/sandbox/early.ts spawns bubblewrap from the argv the last run of the
 * same command line in the same directory used, so that bwrap builds the
 * sandbox (namespaces, mounts) while cordon loads; the command starts only
 * once cordon has computed this run's argv afresh and found it identical
 * (otherwise it gets a program that kills it at its first system call). Node
 * can do that only once it has booted (~30 ms); the front does it at once,
 * with the same file and the same checks, so the sandbox is ready by the time
 * cordon wants it. Everything here is a port of early.ts and must stay equal
 * to it: test/front-early.test.ts compares the two qualifiers on a table of
 * argvs and runs both paths.
 *
 * The remembered file is never trusted: it is only a guess. Before it is
 * spawned the argv must consist of the options cordon emits (none that writes
 * to the host) with the gate (`--seccomp 4`) and `--die-with-parent`, and
 * every path it mounts must exist now, so bwrap creates nothing on the host.
 * The command cannot start before the supervisor writes the program on the
 * gate; if the supervisor dies first, bwrap reads an empty program and exits.
 *
 * File (written by early.ts `remember`): "cordon-early-2\0", bwrap's path,
 * "\0", then each argument followed by "\0"; the byte 0x01 stands for the
 * run's private directory (made here, as early.ts `makeRunDirs` does).
 *
 * Record for the supervisor, written on the events pipe before node starts:
 * a 32-bit little-endian length, then the private directory, bwrap's pid
 * (decimal), bwrap's path and each argument, each followed by "\0". Later,
 * when bwrap has exited: "x<code>\n" or "s<SIGNAME>\n" (src/sandbox/front-early.ts).
 */
#define _GNU_SOURCE
#include "early.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAGIC "cordon-early-2"
#define BASE_BYTE '\x01'
/* Files bigger than this are not remembered argvs. */
#define MAX_FILE (1 << 20)
/* The record must fit the pipe's buffer (64 KiB): it is written before anyone reads it. */
#define MAX_RECORD 60000
/* copied-files.ts MAX_COPIED_BYTES */
#define MAX_COPIED_BYTES (256 * 1024)

/* Options bwrap-args.ts emits, with their number of operands (early.ts ARITY). Nothing else may appear. */
static const struct { const char *name; int arity; } ARITY[] = {
  { "--unshare-all", 0 }, { "--die-with-parent", 0 }, { "--new-session", 0 }, { "--clearenv", 0 },
  { "--hostname", 1 }, { "--proc", 1 }, { "--dev", 1 }, { "--tmpfs", 1 }, { "--remount-ro", 1 }, { "--seccomp", 1 },
  { "--json-status-fd", 1 }, { "--chdir", 1 },
  { "--ro-bind-try", 2 }, { "--bind-try", 2 }, { "--bind", 2 }, { "--ro-bind", 2 }, { "--setenv", 2 }, { "--symlink", 2 },
  { "--perms", 1 }, { "--file", 2 },
};

static int arity(const char *a) {
  for (size_t i = 0; i < sizeof ARITY / sizeof ARITY[0]; i++)
    if (strcmp(a, ARITY[i].name) == 0) return ARITY[i].arity;
  return -1;
}

enum kind { MISSING, DIR_, OTHER };

static enum kind kind(const char *p) {
  struct stat st;
  if (lstat(p, &st) != 0) return MISSING;
  return S_ISDIR(st.st_mode) ? DIR_ : OTHER;
}

/* 1 when `p` is a symbolic link whose text is exactly `want`. */
static int link_is(const char *p, const char *want) {
  size_t n = strlen(want);
  char *buf = malloc(n + 2);
  if (buf == NULL) return 0;
  ssize_t got = readlink(p, buf, n + 1);
  int same = got >= 0 && (size_t)got == n && memcmp(buf, want, n) == 0;
  free(buf);
  return same;
}

/* The soft limit on the size of a file this process writes (bwrap inherits it: a copy above it fails). */
static unsigned long long file_size_limit(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_FSIZE, &r) != 0) return 0;
  return r.rlim_cur == RLIM_INFINITY ? ULLONG_MAX : (unsigned long long)r.rlim_cur;
}

/* copied-files.ts `copyable`: a small regular file under /etc, within the file size limit. */
static int copyable(const char *p, unsigned long long limit) {
  struct stat st;
  if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  unsigned long long size = (unsigned long long)st.st_size;
  return size <= MAX_COPIED_BYTES && size <= limit && strncmp(p, "/etc/", 5) == 0;
}

static int is_decimal(const char *s, int want) {
  char n[16];
  snprintf(n, sizeof n, "%d", want);
  return strcmp(s, n) == 0;
}

int early_qualifies(char **args, size_t n) {
  int gate = 0, copies = 0, die = 0;
  int have_limit = 0;
  unsigned long long limit = 0;
  size_t i = 0;
  for (; i < n; i++) {
    const char *a = args[i];
    if (strcmp(a, "--") == 0) break;
    int k = arity(a);
    if (k < 0 || i + (size_t)k >= n) return 0;
    const char *x = k >= 1 ? args[i + 1] : "";
    const char *y = k >= 2 ? args[i + 2] : "";
    if (strcmp(a, "--die-with-parent") == 0) die = 1;
    else if (strcmp(a, "--seccomp") == 0) {
      if (!is_decimal(x, EARLY_GATE_FD)) return 0;
      gate++;
    } else if (strcmp(a, "--json-status-fd") == 0) {
      if (!is_decimal(x, EARLY_STATUS_FD)) return 0;
    } else if (strcmp(a, "--tmpfs") == 0) {
      if (strcmp(x, "/tmp") != 0 && kind(x) != DIR_) return 0;
    } else if (strcmp(a, "--chdir") == 0) {
      if (kind(x) != DIR_) return 0;
    } else if (strcmp(a, "--bind") == 0 || strcmp(a, "--ro-bind") == 0) {
      if (strcmp(x, "/dev/null") == 0) {
        if (kind(y) != OTHER) return 0;
      } else if (kind(x) == MISSING || (strcmp(y, x) != 0 && kind(y) == MISSING)) return 0;
    } else if (strcmp(a, "--bind-try") == 0 || strcmp(a, "--ro-bind-try") == 0) {
      if (strcmp(x, y) != 0) return 0;
    } else if (strcmp(a, "--symlink") == 0) {
      /* Only the link the host has at that very path: bwrap then creates nothing new. */
      if (!link_is(y, x)) return 0;
    } else if (strcmp(a, "--perms") == 0) {
      if (strcmp(x, "0444") != 0) return 0;
    } else if (strcmp(a, "--file") == 0) {
      if (!is_decimal(x, EARLY_FIRST_COPY_FD + copies)) return 0;
      if (!have_limit) {
        limit = file_size_limit();
        have_limit = 1;
      }
      if (!copyable(y, limit)) return 0;
      copies++;
    }
    i += (size_t)k;
  }
  return gate == 1 && i + 1 < n && die;
}

/* early.ts `nameHash`, over the bytes of the working directory and each argument, each argument preceded by a NUL. */
static void name_hash(const char *cwd, int argc, char **argv, char out[17]) {
  size_t len = strlen(cwd);
  for (int i = 0; i < argc; i++) len += 1 + strlen(argv[i]);
  uint32_t a = 0x811c9dc5u, b = 0x01000193u ^ (uint32_t)len;
#define MIX(c) do { a = (a ^ (uint8_t)(c)) * 0x01000193u; b = (b ^ (uint8_t)(c)) * 0x5bd1e995u; } while (0)
  for (const char *p = cwd; *p != '\0'; p++) MIX(*p);
  for (int i = 0; i < argc; i++) {
    MIX(0);
    for (const char *p = argv[i]; *p != '\0'; p++) MIX(*p);
  }
#undef MIX
  snprintf(out, 17, "%08x%08x", a, b);
}

/* host-dirs.ts `tempDir` and audit/paths.ts `stateDir` (HOME from the environment only: without it, no early start). */
static const char *temp_dir(void) {
  const char *names[] = { "TMPDIR", "TMP", "TEMP" };
  for (size_t i = 0; i < 3; i++) {
    const char *v = getenv(names[i]);
    if (v != NULL && v[0] != '\0') return v;
  }
  return "/tmp";
}

static char *spec_file(int argc, char **argv) {
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL) return NULL;
  char hash[17];
  name_hash(cwd, argc, argv, hash);
  const char *xdg = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  char *out = NULL;
  int r;
  if (xdg != NULL && xdg[0] == '/') r = asprintf(&out, "%s/cordon/cache/early-%s.bin", xdg, hash);
  else if (home != NULL && home[0] != '\0') r = asprintf(&out, "%s/.local/state/cordon/cache/early-%s.bin", home, hash);
  else return NULL;
  return r < 0 ? NULL : out;
}

static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > MAX_FILE) {
    close(fd);
    return NULL;
  }
  size_t size = (size_t)st.st_size;
  char *buf = malloc(size);
  size_t got = 0;
  while (buf != NULL && got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (buf == NULL || got != size) {
    free(buf);
    return NULL;
  }
  *len = size;
  return buf;
}

/* Removes the run's private directory made by make_dirs (empty but for the status file). */
static void remove_dirs(const char *base) {
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/home", base);
  rmdir(p);
  snprintf(p, sizeof p, "%s/tmp", base);
  rmdir(p);
  snprintf(p, sizeof p, "%s/status.json", base);
  unlink(p);
  rmdir(base);
}

/* Moves `fd` to a number >= 10 (so the children can lay out 3..9 without clobbering it); -1 on failure. */
static int high(int fd) {
  if (fd < 0) return -1;
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return h;
}

/* The child: bwrap with fds 0-2 as they are, 3 the status file, 4 the gate, 6.. the copies; nothing else; an empty environment. */
static void exec_bwrap(const char *bwrap, char **argv, int status_fd, int gate_r, const int *copies, int ncopies, int new_session) {
  /* As libuv's spawn does for the supervisor's own bwrap: default dispositions, nothing blocked. */
  for (int s = 1; s < NSIG; s++) if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (new_session && setsid() < 0) _exit(125);
  /* Every source fd is >= 10 (see high), so these dup2 never clobber one another. */
  if (dup2(status_fd, EARLY_STATUS_FD) < 0 || dup2(gate_r, EARLY_GATE_FD) < 0) _exit(125);
  for (int i = 0; i < ncopies; i++) if (dup2(copies[i], EARLY_FIRST_COPY_FD + i) < 0) _exit(125);
  close(5);
  unsigned first = (unsigned)(EARLY_FIRST_COPY_FD + ncopies);
  if (syscall(SYS_close_range, first, ~0U, 0) != 0) {
    for (int fd = (int)first; fd < 1024; fd++) close(fd);
  }
  char *env[] = { NULL };
  execve(bwrap, argv, env);
  _exit(127);
}

void early_remove_dirs(const struct early *e) {
  if (e->base[0] == '/') remove_dirs(e->base);
}

static int put(char *rec, size_t *n, const char *s) {
  size_t l = strlen(s) + 1;
  if (*n + l > MAX_RECORD) return -1;
  memcpy(rec + *n, s, l);
  *n += l;
  return 0;
}

int early_spawn(int argc, char **argv, struct early *e) {
  if (argc < 1 || strcmp(argv[0], "run") != 0) return -1;
  char *file = spec_file(argc, argv);
  if (file == NULL) return -1;
  size_t len = 0;
  char *data = read_file(file, &len);
  free(file);
  if (data == NULL) return -1;
  int rc = -1;
  char **args = NULL;
  size_t nargs = 0;
  char base[PATH_MAX] = "";
  int status_fd = -1, gate[2] = { -1, -1 }, ev[2] = { -1, -1 };
  int copies[64];
  int ncopies = 0;

  /* Parse: the magic, bwrap's absolute path, the arguments; NUL-terminated fields, the last one too. */
  if (data[len - 1] != '\0' || memchr(data, '\0', len) == NULL || strcmp(data, MAGIC) != 0) goto out;
  const char *bwrap = data + strlen(MAGIC) + 1;
  if ((size_t)(bwrap - data) >= len || bwrap[0] != '/') goto out;
  size_t fields = 0;
  for (size_t i = (size_t)(bwrap - data) + strlen(bwrap) + 1; i < len; i++) if (data[i] == '\0') fields++;
  if (fields == 0) goto out;

  /* The run's private directory (early.ts makeRunDirs). */
  const char *tmp = temp_dir();
  size_t tl = strlen(tmp);
  if (tl > 1 && tmp[tl - 1] == '/') tl--;
  if (tl + 16 >= sizeof base) goto out;
  snprintf(base, sizeof base, "%.*s/cordon-XXXXXX", (int)tl, tmp);
  if (mkdtemp(base) == NULL) {
    base[0] = '\0';
    goto out;
  }
  char p[PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/home", base);
  if (mkdir(p, 0700) != 0) goto out;
  snprintf(p, sizeof p, "%s/tmp", base);
  if (mkdir(p, 0700) != 0) goto out;

  /* argv for execve: bwrap, the arguments with the private directory put in, NULL. */
  args = calloc(fields + 2, sizeof *args);
  if (args == NULL) goto out;
  args[nargs++] = (char *)bwrap;
  size_t blen = strlen(base);
  for (const char *f = bwrap + strlen(bwrap) + 1; f < data + len; f += strlen(f) + 1) {
    size_t marks = 0, fl = strlen(f);
    for (size_t i = 0; i < fl; i++) if (f[i] == BASE_BYTE) marks++;
    char *a = malloc(fl + marks * blen + 1);
    if (a == NULL) goto out;
    char *w = a;
    for (size_t i = 0; i < fl; i++) {
      if (f[i] == BASE_BYTE) {
        memcpy(w, base, blen);
        w += blen;
      } else *w++ = f[i];
    }
    *w = '\0';
    args[nargs++] = a;
  }
  if (!early_qualifies(args + 1, nargs - 1)) goto out;

  /* The record for the supervisor must fit the pipe (it is written before anyone reads it): else nothing is spawned. */
  size_t need = 4 + strlen(base) + 1 + 12;
  for (size_t i = 0; i < nargs; i++) need += strlen(args[i]) + 1;
  if (need > MAX_RECORD) goto out;

  /* The copied files, in order (copied-files.ts openCopies): one that cannot be opened is handed over as /dev/null. */
  for (size_t i = 1; i < nargs; i++) {
    if (strcmp(args[i], "--") == 0) break;
    if (strcmp(args[i], "--file") == 0 && i + 2 < nargs) {
      if (ncopies == (int)(sizeof copies / sizeof copies[0])) goto out;
      int fd = open(args[i + 2], O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      fd = high(fd);
      if (fd < 0) goto out;
      copies[ncopies++] = fd;
    }
    int k = arity(args[i]);
    if (k > 0) i += (size_t)k;
  }
  snprintf(p, sizeof p, "%s/status.json", base);
  status_fd = high(open(p, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0600));
  if (status_fd < 0) goto out;
  if (pipe2(gate, O_CLOEXEC) != 0 || pipe2(ev, O_CLOEXEC) != 0) goto out;
  gate[0] = high(gate[0]);
  gate[1] = high(gate[1]);
  ev[0] = high(ev[0]);
  ev[1] = high(ev[1]);
  if (gate[0] < 0 || gate[1] < 0 || ev[0] < 0 || ev[1] < 0) goto out;

  int new_session = 0;
  for (size_t i = 1; i < nargs && strcmp(args[i], "--") != 0; i++) if (strcmp(args[i], "--new-session") == 0) new_session = 1;
  pid_t pid = fork();
  if (pid < 0) goto out;
  if (pid == 0) exec_bwrap(bwrap, args, status_fd, gate[0], copies, ncopies, new_session);

  /* The record: the length, then the fields. */
  static char rec[MAX_RECORD];
  size_t rn = 4;
  char pidbuf[16];
  snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
  put(rec, &rn, base);
  put(rec, &rn, pidbuf);
  for (size_t i = 0; i < nargs; i++) put(rec, &rn, args[i]);
  uint32_t body = (uint32_t)(rn - 4);
  rec[0] = (char)(body & 0xff);
  rec[1] = (char)((body >> 8) & 0xff);
  rec[2] = (char)((body >> 16) & 0xff);
  rec[3] = (char)((body >> 24) & 0xff);
  size_t off = 0;
  while (off < rn) {
    ssize_t w = write(ev[1], rec + off, rn - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  if (off != rn) {
    /* The supervisor could not learn of it: bwrap is killed before its command can start (the gate was never written). */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    goto out;
  }
  e->pid = pid;
  snprintf(e->base, sizeof e->base, "%s", base);
  e->gate = gate[1];
  e->events_r = ev[0];
  e->events_w = ev[1];
  gate[1] = ev[0] = ev[1] = -1;
  base[0] = '\0'; /* the supervisor owns the directory now */
  rc = 0;

out:
  if (status_fd >= 0) close(status_fd);
  for (int i = 0; i < ncopies; i++) close(copies[i]);
  for (int i = 0; i < 2; i++) {
    if (gate[i] >= 0) close(gate[i]);
    if (ev[i] >= 0) close(ev[i]);
  }
  if (rc != 0 && base[0] != '\0') remove_dirs(base);
  if (args != NULL) {
    for (size_t i = 1; i < nargs; i++) free(args[i]);
    free(args);
  }
  free(data);
  return rc;
}
