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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t child_pid = 0;

/* Signals passed on to the supervisor. */
static const int forwarded[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM };

static void forward(int sig, siginfo_t *info, void *ctx) {
  (void)ctx;
  /* SI_KERNEL: the terminal's signal to the foreground group, which the supervisor received too. */
  if (info != NULL && info->si_code == SI_KERNEL) return;
  if (child_pid > 0) kill((pid_t)child_pid, sig);
}

/*
 * Closes every fd from `low` up except `keep`: what the caller left open
 * besides the standard streams (a make jobserver, a terminal, a directory:
 * an open directory outside the sandbox would let a command walk out of it)
 * reaches neither the supervisor nor the sandbox, as sudo's closefrom does.
 */
static int close_from(int low, int keep) {
  if (keep > low && syscall(SYS_close_range, (unsigned)low, (unsigned)(keep - 1), 0) != 0 && errno != ENOSYS) return -1;
  if (syscall(SYS_close_range, (unsigned)(keep + 1), ~0U, 0) == 0) return 0;
  if (errno != ENOSYS) return -1;
  /* Kernels before 5.9: every fd the limit allows. */
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 1 << 20) max = 1 << 20;
  for (int fd = low; fd < max; fd++) if (fd != keep) close(fd);
  return 0;
}

static void say(const char *what, const char *detail) {
  dprintf(2, "cordon: %s: %s\n", what, detail);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    say("usage", "cordon-front NODE [ARGS...] (started by bin/cordon)");
    return 125;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    say("cannot make a pipe", strerror(errno));
    return 125;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    say("cannot start the supervisor", strerror(errno));
    return 125;
  }
  if (pid == 0) {
    /* The supervisor ends with this process (see above); if it is already gone, do not start. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
    int w = fcntl(p[1], F_DUPFD_CLOEXEC, 3);
    if (w < 0 || close_from(3, w) != 0) _exit(125);
    if (fcntl(w, F_SETFD, 0) != 0) _exit(125); /* node inherits this one */
    char n[16];
    snprintf(n, sizeof n, "%d", w);
    if (setenv("CORDON_EXIT_FD", n, 1) != 0) _exit(125);
    execvp(argv[1], argv + 1);
    int e = errno;
    say(argv[1], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  }
  child_pid = pid;
  close(p[1]);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaction(forwarded[i], &sa, NULL);

  unsigned char status;
  ssize_t got;
  do got = read(p[0], &status, 1);
  while (got < 0 && errno == EINTR);
  if (got == 1) _exit(status);

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
