// bigget: fetches a fixed number of responses (a large file, by default
// /big.bin) over C keep-alive connections, one request at a time on each, so
// that a server's CPU time can be read over a known number of bytes
// (bench/bigfile/run.sh). wrk runs for a time instead, and reads 8 KiB per
// call; this reads up to 1 MiB per call, so the client is less often the limit.
//
//   bigget -p PORT [-a IPV4ADDR] [-c CONNS] [-n RESPONSES] [-r PATH] [-d]
//   bigget -F                     print a free 127.0.0.1 port the kernel picked
//
// Every response must be a 200 with a Content-Length; its body is read in
// full (-d: discarded in the kernel with MSG_TRUNC, no copy: a client that
// costs next to nothing). Prints one line:
//   responses=N bytes=B seconds=S
// (B counts heads and bodies). Exit status 1 on any error, or when nothing
// arrives for 10 s.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lib/client.h"

static void usage(void) {
  fprintf(stderr,
          "usage: bigget -p PORT [-a IPV4ADDR] [-c CONNS] [-n RESPONSES] [-r PATH] [-d]\n"
          "       bigget -F   (print a free 127.0.0.1 port)\n");
  exit(2);
}

typedef struct {
  int fd;
  bool in_head;    // reading a response head (else its body)
  uint64_t left;   // body bytes still to read
  size_t have;     // head bytes in hb
  char hb[8192];
} conn_t;

static char sink[1 << 20];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

// A complete head in c->hb: checks it, counts it and the body bytes that
// came with it. False if it is not a 200 with a Content-Length.
static bool head_done(conn_t* c, char* end, uint64_t* bytes) {
  if (strncmp(c->hb, "HTTP/1.1 200 ", 13) != 0) {
    fprintf(stderr, "bigget: not a 200: %.40s\n", c->hb);
    return false;
  }
  size_t hl = (size_t)(end + 4 - c->hb);
  uint64_t clen = UINT64_MAX;
  for (char* p = c->hb; p < end;) {
    char* eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
    if (!eol) break;
    if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0)
      clen = strtoull(p + 15, NULL, 10);
    p = eol + 2;
  }
  if (clen == UINT64_MAX || c->have - hl > clen) {
    fprintf(stderr, "bigget: no usable Content-Length\n");
    return false;
  }
  *bytes += c->have;
  c->left = clen - (c->have - hl);
  c->in_head = false;
  c->have = 0;
  return true;
}

int main(int argc, char** argv) {
  const char* addr = "127.0.0.1";
  const char* path = "/big.bin";
  long port = -1, nconn = 8, total = 100;
  bool discard = false;
  int opt;
  while ((opt = getopt(argc, argv, "a:p:c:n:r:dFh")) != -1) {
    switch (opt) {
      case 'a': addr = optarg; break;
      case 'p': port = client_num(optarg, 1, 65535, usage); break;
      case 'c': nconn = client_num(optarg, 1, 1024, usage); break;
      case 'n': total = client_num(optarg, 1, 100000000, usage); break;
      case 'r': path = optarg; break;
      case 'd': discard = true; break;
      case 'F': return client_free_port("bigget");
      default: usage();
    }
  }
  if (optind != argc || port < 0) usage();
  struct sockaddr_in sa;
  char req[1024];
  int reqlen;
  if (!client_target(addr, port, path, &sa, req, sizeof req, &reqlen)) usage();

  int ep = epoll_create1(EPOLL_CLOEXEC);
  conn_t* cs = calloc((size_t)nconn, sizeof *cs);
  if (ep < 0 || !cs) return 1;
  long started = 0, done = 0;
  uint64_t bytes = 0;
  double t0 = now();
  for (long i = 0; i < nconn; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
      fprintf(stderr, "bigget: connect: %s\n", strerror(errno));
      return 1;
    }
    cs[i] = (conn_t){.fd = fd, .in_head = true};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) return 1;
    if (started < total) {
      started++;
      if (send(fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen) return 1;
    }
  }
  struct epoll_event evs[64];
  while (done < total) {
    int k = epoll_wait(ep, evs, 64, 10000);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      fprintf(stderr, "bigget: nothing for 10 s after %ld responses\n", done);
      return 1;
    }
    for (int i = 0; i < k; i++) {
      conn_t* c = evs[i].data.ptr;
      ssize_t r;
      if (c->in_head) {
        if (c->have == sizeof c->hb) {
          fprintf(stderr, "bigget: head over %zu bytes\n", sizeof c->hb);
          return 1;
        }
        r = recv(c->fd, c->hb + c->have, sizeof c->hb - c->have - 1, MSG_DONTWAIT);
        if (r > 0) {
          c->have += (size_t)r;
          c->hb[c->have] = 0;
          char* end = memmem(c->hb, c->have, "\r\n\r\n", 4);
          if (end && !head_done(c, end, &bytes)) return 1;
        }
      } else {
        size_t want = c->left < sizeof sink ? (size_t)c->left : sizeof sink;
        r = discard ? recv(c->fd, NULL, want, MSG_DONTWAIT | MSG_TRUNC) : recv(c->fd, sink, want, MSG_DONTWAIT);
        if (r > 0) {
          bytes += (uint64_t)r;
          c->left -= (uint64_t)r;
        }
      }
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        fprintf(stderr, "bigget: connection ended after %ld responses: %s\n", done,
                r == 0 ? "EOF" : strerror(errno));
        return 1;
      }
      if (!c->in_head && c->left == 0) {
        done++;
        c->in_head = true;
        if (started < total) {
          started++;
          if (send(c->fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen) return 1;
        }
      }
    }
  }
  double s = now() - t0;
  printf("responses=%ld bytes=%llu seconds=%.4f\n", done, (unsigned long long)bytes, s);
  for (long i = 0; i < nconn; i++) close(cs[i].fd);
  free(cs);
  close(ep);
  return 0;
}
