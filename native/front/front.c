/*
 * cordon-front: what bin/cordon execs for `cordon run` when it was built.
 *
 * It starts the supervisor (argv[1..]: node and its arguments) as its child
 * and exits as soon as the supervisor reports its exit status, instead of
 * when the supervisor's process has been torn down. A Node.js process takes
 * 3-5 ms after its last line of JavaScript to release its heap, its threads
 * and its address space; the caller (a shell, a CI step, an agent running
 * `cordon run` many times) waits for none of that.
 *
 * Protocol: the child gets the write end of a pipe as fd N and
 * CORDON_EXIT_FD=N in its environment. run-loader.ts reopens it without
 * inheritance (so no process the supervisor starts, least of all the
 * sandbox, can write to it), and writes one byte, the exit status, once every
 * 'exit' listener has run and its standard streams are closed. With that
 * byte this program exits with that status at once. Without it (the pipe
 * closed: the supervisor died of a signal, or never took the fd) it waits
 * for the child and mirrors how it ended, a signal included.
 *
 * Signals: those sent to this process (kill, timeout(1), a CI runner) are
 * passed to the supervisor. Those the terminal sends to the whole foreground
 * process group (Ctrl-C, Ctrl-\) reach the supervisor directly and are not
 * passed again. The supervisor gets SIGKILL if this process dies first
 * (PR_SET_PDEATHSIG), so it never outlives the caller's view of the run.
 *
 * Inherited fds: none but the standard streams reaches the supervisor (nor,
 * through it, the sandbox): the others are closed before node starts.
 *
 * Exit statuses of its own: 125 when it cannot start the supervisor at all
 * (as `cordon run` does when cordon fails), 127 when node is not found.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "early.h"

static volatile sig_atomic_t child_pid = 0;

/* Signals passed on to the supervisor. */
static const int forwarded[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM };

/* Written to by the SIGCHLD handler, so the loop below wakes up when bwrap (the early sandbox) exits. */
static int wake_w = -1;

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  if (wake_w >= 0) (void)!write(wake_w, "c", 1);
  errno = saved;
}

static void forward(int sig, siginfo_t *info, void *ctx) {
  (void)ctx;
  /* SI_KERNEL: the terminal's signal to the foreground group, which the supervisor received too. */
  if (info != NULL && info->si_code == SI_KERNEL) return;
  if (child_pid > 0) kill((pid_t)child_pid, sig);
}

/*
 * Closes every fd from `low` up: what the caller left open besides the
 * standard streams (a make jobserver, a terminal, a directory: an open
 * directory outside the sandbox would let a command walk out of it) reaches
 * neither the supervisor nor the sandbox, as sudo's closefrom does.
 */
static int close_from(int low) {
  if (syscall(SYS_close_range, (unsigned)low, ~0U, 0) == 0) return 0;
  if (errno != ENOSYS) return -1;
  /* Kernels before 5.9: every fd the limit allows. */
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 1 << 20) max = 1 << 20;
  for (int fd = low; fd < max; fd++) close(fd);
  return 0;
}

static void say(const char *what, const char *detail) {
  dprintf(2, "cordon: %s: %s\n", what, detail);
}

/* `cordon-front --qualify`: reads NUL-terminated arguments on stdin, exits 0 when they qualify for an early start (tests). */
static int qualify_stdin(void) {
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (buf == NULL) return 2;
    if (len == cap) buf = realloc(buf, cap *= 2);
    if (buf == NULL) return 2;
    ssize_t r = read(0, buf + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return 2;
    if (r == 0) break;
    len += (size_t)r;
  }
  size_t n = 0;
  for (size_t i = 0; i < len; i++) if (buf[i] == '\0') n++;
  char **args = calloc(n + 1, sizeof *args);
  if (args == NULL) return 2;
  size_t k = 0;
  for (size_t i = 0; i < len && k < n; i += strlen(buf + i) + 1) args[k++] = buf + i;
  return early_qualifies(args, k) ? 0 : 1;
}

/* Moves `fd` to a number >= 10, close-on-exec (so the child can lay out 3..5 without clobbering it). */
static int high_fd(int fd) {
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return h;
}

/* Tells the supervisor how bwrap ended ("x<code>\n" or "s<signal number>\n"), once, when it has. bwrap stays a zombie (WNOWAIT) so its pid cannot be reused while the supervisor may still signal it. */
static int early_done(struct early *e) {
  if (e->pid <= 0) return 1;
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)e->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return 0;
  if (e->events_w >= 0) {
    char msg[24];
    int n = info.si_code == CLD_EXITED ? snprintf(msg, sizeof msg, "x%d\n", info.si_status) : snprintf(msg, sizeof msg, "s%d\n", info.si_status);
    (void)!write(e->events_w, msg, (size_t)n);
    close(e->events_w);
    e->events_w = -1;
  }
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--qualify") == 0) return qualify_stdin();
  /* `--node-argc=K`: the first K arguments start node; the rest are cordon's own (the early sandbox is looked up from them). */
  int node_argc = -1;
  if (argc >= 2 && strncmp(argv[1], "--node-argc=", 12) == 0) {
    node_argc = atoi(argv[1] + 12);
    argv++;
    argc--;
    if (node_argc < 1 || node_argc >= argc) node_argc = -1;
  }
  if (argc < 2) {
    say("usage", "cordon-front [--node-argc=K] NODE [ARGS...] (started by bin/cordon)");
    return 125;
  }
  /* What the caller left open besides the standard streams reaches neither bwrap nor the supervisor. */
  if (close_from(3) != 0) {
    say("cannot close inherited file descriptors", strerror(errno));
    return 125;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    say("cannot make a pipe", strerror(errno));
    return 125;
  }
  p[0] = high_fd(p[0]);
  p[1] = high_fd(p[1]);
  if (p[0] < 0 || p[1] < 0) {
    say("cannot make a pipe", strerror(errno));
    return 125;
  }
  struct early early = { .pid = -1, .gate = -1, .events_r = -1, .events_w = -1 };
  const char *no_early = getenv("CORDON_EARLY");
  if (node_argc > 0 && (no_early == NULL || strcmp(no_early, "0") != 0) && early_spawn(argc - 1 - node_argc, argv + 1 + node_argc, &early) != 0) early.pid = -1;

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    say("cannot start the supervisor", strerror(errno));
    if (early.pid > 0) kill(early.pid, SIGKILL);
    return 125;
  }
  if (pid == 0) {
    /* The supervisor ends with this process (see above); if it is already gone, do not start. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
    /* fd 3: the exit pipe; with an early sandbox, 4 its gate and 5 its events; nothing else. Every source is >= 10. */
    if (dup2(p[1], 3) < 0) _exit(125);
    int last = 3;
    if (early.pid > 0) {
      if (dup2(early.gate, 4) < 0 || dup2(early.events_r, 5) < 0) _exit(125);
      last = 5;
      if (setenv("CORDON_EARLY_FDS", "4,5", 1) != 0) _exit(125);
    } else unsetenv("CORDON_EARLY_FDS");
    if (close_from(last + 1) != 0) _exit(125);
    if (setenv("CORDON_EXIT_FD", "3", 1) != 0) _exit(125);
    execvp(argv[1], argv + 1);
    int e = errno;
    say(argv[1], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  child_pid = pid;
  close(p[1]);
  if (early.pid > 0) {
    close(early.gate);
    close(early.events_r);
  }

  int wake[2] = { -1, -1 };
  if (early.pid > 0 && pipe2(wake, O_CLOEXEC | O_NONBLOCK) == 0) wake_w = wake[1];
  signal(SIGPIPE, SIG_IGN); /* a supervisor gone before reading bwrap's end must not kill this process */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaction(forwarded[i], &sa, NULL);
  if (wake_w >= 0) {
    struct sigaction sc;
    memset(&sc, 0, sizeof sc);
    sc.sa_handler = on_child;
    sc.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sc.sa_mask);
    sigaction(SIGCHLD, &sc, NULL);
  } else if (early.pid > 0) {
    /* No way to be woken: the supervisor cannot learn when bwrap ends, so it must not use it. */
    kill(early.pid, SIGKILL);
    early_done(&early);
  }

  unsigned char status;
  ssize_t got = -1;
  int bwrap_done = early.pid <= 0 || early_done(&early);
  for (;;) {
    struct pollfd fds[2] = { { .fd = p[0], .events = POLLIN }, { .fd = bwrap_done ? -1 : wake[0], .events = POLLIN } };
    int r = poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) {
      char drain[64];
      while (read(wake[0], drain, sizeof drain) > 0) {
      }
      bwrap_done = early_done(&early);
    }
    if (fds[0].revents != 0) {
      do got = read(p[0], &status, 1);
      while (got < 0 && errno == EINTR);
      break;
    }
  }
  /* The run is over (or the supervisor is gone): an early sandbox still there goes too (as it would have with its parent). */
  if (early.pid > 0 && !early_done(&early)) kill(early.pid, SIGKILL);
  if (got == 1) _exit(status);
  /* No report: the supervisor died, maybe before it took the early sandbox over; its private directory goes (if empty). */
  if (early.pid > 0) {
    while (waitpid(early.pid, NULL, 0) < 0 && errno == EINTR) {
    }
    early_remove_dirs(&early);
  }
  /* No report: wait for the supervisor and end as it did. */
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return 125;
  }
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) {
    int sig = WTERMSIG(st);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    kill(getpid(), sig);
    return 128 + sig;
  }
  return 125;
}
