/*
 * The floor of any TCP forwarder on this machine (bench/egress/floor.ts):
 * the least a proxy can do between the bench client and the upstream. No
 * HTTP, no policy, no event loop: for each accepted connection it connects
 * to 127.0.0.1:UPSTREAM_PORT and moves bytes with two blocking threads,
 * client -> upstream with read/write, upstream -> client with splice(2)
 * through a 1 MiB pipe (as cordon's relay) or, with argv[2] "rw", with
 * read/write through a 1 MiB buffer (one copy in, one copy out).
 *
 *   relay-floor UPSTREAM_PORT [splice|rw]   prints its own port, then serves until killed
 *
 * Loopback only (listens on and connects to 127.0.0.1). A bench tool, not
 * part of cordon.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (1 << 20)

struct conn {
  int client, upstream;
  int refs; /* both directions; the last one closes and frees */
  pthread_mutex_t lock;
};

static int use_rw;

static void release(struct conn* c) {
  pthread_mutex_lock(&c->lock);
  int left = --c->refs;
  pthread_mutex_unlock(&c->lock);
  if (left > 0) return;
  close(c->client);
  close(c->upstream);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

static int write_all(int fd, const char* b, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, b, (size_t)n);
    if (w <= 0) return -1;
    b += w;
    n -= w;
  }
  return 0;
}

/* client -> upstream (the request): plain read/write. */
static void* up_dir(void* arg) {
  struct conn* c = arg;
  char b[65536];
  ssize_t n;
  while ((n = read(c->client, b, sizeof b)) > 0)
    if (write_all(c->upstream, b, n) != 0) break;
  shutdown(c->upstream, SHUT_WR);
  release(c);
  return NULL;
}

/* upstream -> client (the response body): splice through a pipe, or read/write. */
static void* down_dir(void* arg) {
  struct conn* c = arg;
  if (use_rw) {
    char* b = malloc(CHUNK);
    ssize_t n;
    while (b != NULL && (n = read(c->upstream, b, CHUNK)) > 0)
      if (write_all(c->client, b, n) != 0) break;
    free(b);
  } else {
    int p[2];
    if (pipe2(p, O_CLOEXEC) == 0) {
      fcntl(p[1], F_SETPIPE_SZ, CHUNK);
      for (;;) {
        ssize_t n = splice(c->upstream, NULL, p[1], NULL, CHUNK, SPLICE_F_MOVE);
        if (n <= 0) break;
        while (n > 0) {
          ssize_t w = splice(p[0], NULL, c->client, NULL, (size_t)n, SPLICE_F_MOVE);
          if (w <= 0) goto out;
          n -= w;
        }
      }
    out:
      close(p[0]);
      close(p[1]);
    }
  }
  shutdown(c->client, SHUT_WR);
  release(c);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: relay-floor UPSTREAM_PORT [splice|rw]\n");
    return 2;
  }
  int up_port = atoi(argv[1]);
  use_rw = argc > 2 && strcmp(argv[2], "rw") == 0;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t al = sizeof a;
  if (l < 0 || bind(l, (struct sockaddr*)&a, sizeof a) != 0 || listen(l, 64) != 0 || getsockname(l, (struct sockaddr*)&a, &al) != 0) {
    perror("relay-floor: listen");
    return 1;
  }
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  for (;;) {
    int client = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) continue;
    int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in ua = { .sin_family = AF_INET, .sin_port = htons((uint16_t)up_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct conn* c = calloc(1, sizeof *c);
    if (upstream < 0 || c == NULL || connect(upstream, (struct sockaddr*)&ua, sizeof ua) != 0) {
      close(client);
      if (upstream >= 0) close(upstream);
      free(c);
      continue;
    }
    c->client = client;
    c->upstream = upstream;
    c->refs = 2;
    pthread_mutex_init(&c->lock, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, up_dir, c) == 0) pthread_detach(t);
    else release(c);
    if (pthread_create(&t, NULL, down_dir, c) == 0) pthread_detach(t);
    else release(c);
  }
}
