/*
 * cordon's zero-copy relay: moves bytes from one socket to another with
 * Linux splice(2) through a pipe, inside the kernel, on Node's own event loop
 * (libuv uv_poll_t; no threads).
 *
 *   start(inFd, outFd, maxBytes, flags, intervalMs, pipeBytes, onProgress, onDone) -> handle
 *   cancel(handle)
 *
 * Both fds are dup()'ed: the relay polls and closes only its own copies, so
 * Node's handles of the sockets stay as they are (the caller stops reading
 * the source and writing the destination while the relay runs). maxBytes -1
 * relays until end of file; otherwise exactly maxBytes are read from the
 * source (never more). flags bit 0: shutdown(SHUT_WR) the destination when
 * the source reached end of file (half-close, as a stream pipe's end()).
 * pipeBytes: the pipe's size asked for (F_SETPIPE_SZ; quarter sizes down to
 * 64 KiB are tried, else the default stays: the system's pipe-max-size and
 * the user's pipe quota, pipe-user-pages-soft, bound it). onProgress(moved)
 * is called after bytes moved, at most once per intervalMs.
 * onDone(errorCode | null, moved, eof, stats) is called once, after the relay
 * closed its descriptors; stats = [wakeUps, spliceIn, spliceOut, waitsIn,
 * waitsOut]: poll events handled, splice(2) calls from the source into the
 * pipe and from the pipe to the destination, and how often the relay went
 * back to the loop to wait for the source (readable) or the destination
 * (writable). cancel() closes everything and calls nothing afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#define FLAG_SHUTDOWN_ON_EOF 1
/* Bytes moved per event-loop wake-up before yielding to other handles (the poll fires again next iteration). */
#ifndef BUDGET
#define BUDGET (8u * 1024u * 1024u)
#endif

typedef struct relay {
  napi_env env;
  uv_poll_t in_poll;
  uv_poll_t out_poll;
  int in_fd, out_fd, pr, pw;
  size_t pipe_size;
  size_t in_pipe;       /* bytes in the pipe */
  int64_t max;          /* -1: until EOF */
  uint64_t read_total;  /* bytes taken from the source */
  uint64_t moved;       /* bytes written to the destination */
  uint64_t reported;
  uint64_t last_report; /* uv_now() of the last progress call */
  uint32_t interval;
  int flags;
  int eof;
  int finished;         /* done called or cancelled: no callback any more */
  int watching;         /* 0 none, 1 in, 2 out */
  int closing;          /* poll handles not closed yet */
  int refs;             /* the JS handle + the running relay */
  napi_ref on_progress, on_done;
  napi_async_context actx;
  /* Counters reported to onDone (what a relay costs in wake-ups and system calls). */
  double wake_ups, splice_in, splice_out, waits_in, waits_out;
} relay_t;

static void relay_unref(relay_t* r) {
  if (--r->refs == 0) free(r);
}

static void on_closed(uv_handle_t* h) {
  relay_t* r = (relay_t*)h->data;
  if (--r->closing == 0) relay_unref(r);
}

static void close_fd(int* fd) {
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

/* Stops polling and closes every descriptor; the poll handles are closed asynchronously (then the running ref goes). */
static void teardown(relay_t* r) {
  r->finished = 1;
  uv_close((uv_handle_t*)&r->in_poll, on_closed);
  uv_close((uv_handle_t*)&r->out_poll, on_closed);
  close_fd(&r->in_fd);
  close_fd(&r->out_fd);
  close_fd(&r->pr);
  close_fd(&r->pw);
}

static void drop_callbacks(relay_t* r) {
  napi_env env = r->env;
  if (r->on_progress != NULL) napi_delete_reference(env, r->on_progress);
  if (r->on_done != NULL) napi_delete_reference(env, r->on_done);
  r->on_progress = NULL;
  r->on_done = NULL;
  if (r->actx != NULL) napi_async_destroy(env, r->actx);
  r->actx = NULL;
}

static void call(relay_t* r, napi_ref ref, size_t argc, napi_value* argv) {
  napi_env env = r->env;
  napi_value fn, global, result;
  if (napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &global);
  napi_status s = napi_make_callback(env, r->actx, global, fn, argc, argv, &result);
  if (s == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
}

static void report(relay_t* r) {
  napi_handle_scope scope;
  napi_open_handle_scope(r->env, &scope);
  napi_value argv[1];
  napi_create_double(r->env, (double)r->moved, &argv[0]);
  r->reported = r->moved;
  r->last_report = uv_now(r->in_poll.loop);
  call(r, r->on_progress, 1, argv);
  napi_close_handle_scope(r->env, scope);
}

/* Ends the relay: everything closed first, then onDone(code, moved, eof). */
static void finish(relay_t* r, int err) {
  if (r->finished) return;
  if (err == 0 && r->eof && (r->flags & FLAG_SHUTDOWN_ON_EOF)) shutdown(r->out_fd, SHUT_WR);
  teardown(r);
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[4];
  if (err == 0) napi_get_null(env, &argv[0]);
  else napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &argv[0]);
  napi_create_double(env, (double)r->moved, &argv[1]);
  napi_get_boolean(env, r->eof != 0, &argv[2]);
  const double counts[5] = { r->wake_ups, r->splice_in, r->splice_out, r->waits_in, r->waits_out };
  napi_create_array_with_length(env, 5, &argv[3]);
  for (uint32_t i = 0; i < 5; i++) {
    napi_value v;
    napi_create_double(env, counts[i], &v);
    napi_set_element(env, argv[3], i, v);
  }
  napi_ref done = r->on_done;
  r->on_done = NULL;
  call(r, done, 4, argv);
  napi_delete_reference(env, done);
  drop_callbacks(r);
  napi_close_handle_scope(env, scope);
}

static void on_event(uv_poll_t* h, int status, int events);

static int watch(relay_t* r, int which) {
  if (which == 1) r->waits_in += 1;
  if (which == 2) r->waits_out += 1;
  if (r->watching == which) return 0;
  int rc = 0;
  if (r->watching == 1) uv_poll_stop(&r->in_poll);
  if (r->watching == 2) uv_poll_stop(&r->out_poll);
  r->watching = which;
  if (which == 1) rc = uv_poll_start(&r->in_poll, UV_READABLE, on_event);
  if (which == 2) rc = uv_poll_start(&r->out_poll, UV_WRITABLE, on_event);
  return rc;
}

static int source_done(relay_t* r) {
  return r->eof || (r->max >= 0 && r->read_total >= (uint64_t)r->max);
}

/* Moves what can be moved now; then waits on the source (pipe empty) or the destination (pipe holds bytes). */
static void pump(relay_t* r) {
  uint64_t start = r->moved;
  for (;;) {
    /* Fill: only while the pipe has room. EAGAIN here with bytes in the pipe may mean a full pipe, so the
     * source is polled only when the pipe is empty (then EAGAIN can only mean the source has nothing). */
    while (!source_done(r) && r->in_pipe < r->pipe_size) {
      size_t want = r->pipe_size - r->in_pipe;
      if (r->max >= 0 && (uint64_t)r->max - r->read_total < want) want = (size_t)((uint64_t)r->max - r->read_total);
      ssize_t n = splice(r->in_fd, NULL, r->pw, NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      r->splice_in += 1;
      if (n > 0) {
        r->in_pipe += (size_t)n;
        r->read_total += (uint64_t)n;
        continue;
      }
      if (n == 0) {
        r->eof = 1;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      finish(r, errno);
      return;
    }
    if (r->in_pipe == 0) {
      if (source_done(r)) {
        finish(r, 0);
        return;
      }
      int rc = watch(r, 1);
      if (rc != 0) finish(r, -rc);
      return;
    }
    ssize_t n = splice(r->pr, NULL, r->out_fd, NULL, r->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    r->splice_out += 1;
    if (n > 0) {
      r->in_pipe -= (size_t)n;
      r->moved += (uint64_t)n;
      if (r->moved > r->reported && uv_now(r->in_poll.loop) - r->last_report >= r->interval) {
        report(r);
        if (r->finished) return; /* cancelled by the progress callback */
      }
      /* Done (all read and written): finish now, never wait on a source that has nothing more to send (a kept-alive
       * upstream after exactly max bytes would never be readable again). */
      if (r->in_pipe == 0 && source_done(r)) continue;
      if (r->moved - start >= BUDGET) {
        /* Yield: whichever side is polled fires again on the next loop iteration if it is still ready. */
        int rc = watch(r, r->in_pipe == 0 ? 1 : 2);
        if (rc != 0) finish(r, -rc);
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      int rc = watch(r, 2);
      if (rc != 0) finish(r, -rc);
      return;
    }
    finish(r, n == 0 ? EPIPE : errno);
    return;
  }
}

static void on_event(uv_poll_t* h, int status, int events) {
  relay_t* r = (relay_t*)h->data;
  if (r->finished) return;
  r->wake_ups += 1;
  /* An error event (status < 0): the next splice reports the socket's own error. */
  pump(r);
}

static void finalize(napi_env env, void* data, void* hint) {
  relay_unref((relay_t*)data);
}

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, uv_err_name(-err), msg);
  return NULL;
}

/* start(inFd, outFd, maxBytes, flags, intervalMs, pipeBytes, onProgress, onDone) */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8) {
    napi_throw_type_error(env, NULL, "start(inFd, outFd, maxBytes, flags, intervalMs, pipeBytes, onProgress, onDone)");
    return NULL;
  }
  int32_t in_fd, out_fd, flags, want_pipe;
  uint32_t interval;
  int64_t max;
  if (napi_get_value_int32(env, argv[0], &in_fd) != napi_ok || napi_get_value_int32(env, argv[1], &out_fd) != napi_ok ||
      napi_get_value_int64(env, argv[2], &max) != napi_ok || napi_get_value_int32(env, argv[3], &flags) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &interval) != napi_ok || napi_get_value_int32(env, argv[5], &want_pipe) != napi_ok ||
      in_fd < 0 || out_fd < 0) {
    napi_throw_type_error(env, NULL, "start: bad arguments");
    return NULL;
  }
  napi_valuetype t6, t7;
  napi_typeof(env, argv[6], &t6);
  napi_typeof(env, argv[7], &t7);
  if (t6 != napi_function || t7 != napi_function) {
    napi_throw_type_error(env, NULL, "start: onProgress and onDone must be functions");
    return NULL;
  }
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, NULL, "start: no event loop");
    return NULL;
  }
  relay_t* r = calloc(1, sizeof *r);
  if (r == NULL) return throw_errno(env, "start", ENOMEM);
  r->env = env;
  r->in_fd = r->out_fd = r->pr = r->pw = -1;
  r->max = max < 0 ? -1 : max;
  r->flags = flags;
  r->interval = interval;
  int err = 0;
  const char* what = "dup";
  r->in_fd = fcntl(in_fd, F_DUPFD_CLOEXEC, 3);
  if (r->in_fd < 0) err = errno;
  if (err == 0) {
    r->out_fd = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
    if (r->out_fd < 0) err = errno;
  }
  if (err == 0) {
    int p[2];
    what = "pipe2";
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) err = errno;
    else {
      r->pr = p[0];
      r->pw = p[1];
      /* As large as allowed (the system's pipe-max-size, the user's pipe quota), else the default. */
      for (int sz = want_pipe; sz > 64 * 1024; sz /= 4) {
        if (fcntl(r->pw, F_SETPIPE_SZ, sz) >= 0) break;
      }
      int got = fcntl(r->pw, F_GETPIPE_SZ);
      r->pipe_size = got > 0 ? (size_t)got : 64 * 1024;
    }
  }
  if (err != 0) {
    close_fd(&r->in_fd);
    close_fd(&r->out_fd);
    close_fd(&r->pr);
    close_fd(&r->pw);
    free(r);
    return throw_errno(env, what, err);
  }
  int rc = uv_poll_init(loop, &r->in_poll, r->in_fd);
  if (rc != 0) {
    close_fd(&r->in_fd);
    close_fd(&r->out_fd);
    close_fd(&r->pr);
    close_fd(&r->pw);
    free(r);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  r->in_poll.data = r;
  rc = uv_poll_init(loop, &r->out_poll, r->out_fd);
  if (rc != 0) {
    /* The in poll exists: close it through libuv (then the relay is freed). */
    r->refs = 1;
    r->closing = 1;
    r->finished = 1;
    uv_close((uv_handle_t*)&r->in_poll, on_closed);
    close_fd(&r->in_fd);
    close_fd(&r->out_fd);
    close_fd(&r->pr);
    close_fd(&r->pw);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  r->out_poll.data = r;
  r->closing = 2;
  r->refs = 2;
  r->last_report = uv_now(loop);
  napi_value name;
  napi_create_string_utf8(env, "cordon:splice", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &r->actx);
  napi_create_reference(env, argv[6], 1, &r->on_progress);
  napi_create_reference(env, argv[7], 1, &r->on_done);
  napi_value handle;
  if (napi_create_external(env, r, finalize, NULL, &handle) != napi_ok) {
    r->refs = 1;
    teardown(r);
    drop_callbacks(r);
    napi_throw_error(env, NULL, "start: could not create the handle");
    return NULL;
  }
  /* Nothing is moved synchronously: the first poll event (next loop iteration) starts the relay. With nothing to
   * read (max 0) the source may never become readable: the destination's first writable event ends it. */
  rc = watch(r, r->max == 0 ? 2 : 1);
  if (rc != 0) {
    teardown(r);
    drop_callbacks(r);
    return throw_errno(env, "uv_poll_start", -rc);
  }
  return handle;
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void* data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "cancel(handle)");
    return NULL;
  }
  relay_t* r = (relay_t*)data;
  if (!r->finished) {
    teardown(r);
    drop_callbacks(r);
  }
  return NULL;
}

/* The interface's version: src/egress/zero-copy.ts loads only the one it was written for (an addon left from an older
 * build is reported, not called with arguments it does not take). */
#define RELAY_ABI 3

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value abi;
  napi_create_int32(env, RELAY_ABI, &abi);
  napi_property_descriptor props[] = {
    { "start", NULL, start, NULL, NULL, NULL, napi_default, NULL },
    { "cancel", NULL, cancel, NULL, NULL, NULL, napi_default, NULL },
    { "abi", NULL, NULL, NULL, NULL, abi, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
