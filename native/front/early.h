/*
 * The early sandbox, spawned by the front (see early.c and src/sandbox/early.ts).
 */
#ifndef CORDON_FRONT_EARLY_H
#define CORDON_FRONT_EARLY_H

#include <sys/types.h>

/* The fd numbers bwrap gets (src/sandbox/early.ts STATUS_FD, SECCOMP_FD; copied-files.ts COPIED_FILE_FD). */
#define EARLY_STATUS_FD 3
#define EARLY_GATE_FD 4
#define EARLY_FIRST_COPY_FD 6

/* A bwrap spawned by the front, waiting at its gate. */
struct early {
  pid_t pid;       /* bwrap */
  int gate;        /* write end of the gate (bwrap's fd 4): handed to the supervisor */
  int events_r;    /* read end of the events pipe: handed to the supervisor */
  int events_w;    /* write end: the front writes bwrap's exit on it */
  char base[4096]; /* the run's private directory (the supervisor removes it; the front only when the supervisor died) */
};

/*
 * Spawns the sandbox remembered for this command line (`argv`, what follows
 * `cordon`, argv[0] being "run") when there is one and it qualifies; the
 * record of what was spawned (the run's directory, bwrap's path and argv) is
 * already written on the events pipe. Returns 0 when spawned, -1 when not
 * (nothing is left behind then: no directory, no fd, no process).
 */
int early_spawn(int argc, char **argv, struct early *e);

/* Removes the early sandbox's private directory if it holds no more than what the front put there. */
void early_remove_dirs(const struct early *e);

/* 1 when `args` (n of them) is an argv the front may spawn before the supervisor has checked it (see early.ts `qualifies`). */
int early_qualifies(char **args, size_t n);

#endif
