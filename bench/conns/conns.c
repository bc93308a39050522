// conns: holds N keep-alive connections open against a server so its memory
// can be read with them in place (bench/run.sh samples /proc/PID/status).
//
//   conns -p PORT [-a IPV4ADDR] [-n N] [-r PATH] [-t SECONDS]
//   conns -F                      print a free 127.0.0.1 port the kernel picked
//
// Opens N connections one after another (blocking, 5 s timeouts), with -r
// sends "GET PATH HTTP/1.1" on each and reads the whole response before the
// next, so every connection has been accepted and served once. Then prints
// "ready N" on stdout and holds them for SECONDS (default 10) or until
// SIGINT/SIGTERM, and finally prints "alive K/N": how many the server had not
// closed by then. Exit status 0 only if all N were opened (and answered).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lib/client.h"

static void usage(void) {
  fprintf(stderr,
          "usage: conns -p PORT [-a IPV4ADDR] [-n N] [-r PATH] [-t SECONDS]\n"
          "       conns -F   (print a free 127.0.0.1 port)\n");
  exit(2);
}

// Reads one response: headers, then Content-Length bytes of body (a response
// without Content-Length is taken as header-only, enough for a 200 with a
// length, which is all the harness asks for). Returns false on error/EOF.
static bool read_response(int fd) {
  char buf[16384];
  size_t have = 0;
  for (;;) {
    if (have == sizeof buf) return false;
    ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
    have += (size_t)r;
    char* end = memmem(buf, have, "\r\n\r\n", 4);
    if (!end) continue;
    size_t head = (size_t)(end - buf) + 4;
    uint64_t clen = 0;
    for (char* p = buf; p < end;) {
      char* eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
      if (!eol) break;
      if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0)
        clen = strtoull(p + 15, NULL, 10);
      p = eol + 2;
    }
    uint64_t body = have - head;
    while (body < clen) {  // drain the rest of the body
      r = recv(fd, buf, sizeof buf, 0);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        return false;
      }
      body += (uint64_t)r;
    }
    return true;
  }
}

int main(int argc, char** argv) {
  const char* addr = "127.0.0.1";
  long port = -1, n = 1000, hold = 10;
  const char* path = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "a:p:n:r:t:Fh")) != -1) {
    switch (opt) {
      case 'a': addr = optarg; break;
      case 'p': port = client_num(optarg, 1, 65535, usage); break;
      case 'n': n = client_num(optarg, 1, 1000000, usage); break;
      case 'r': path = optarg; break;
      case 't': hold = client_num(optarg, 0, 86400, usage); break;
      case 'F': return client_free_port("conns");
      default: usage();
    }
  }
  if (optind != argc || port < 0) usage();

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  // Signals are taken synchronously with sigtimedwait while holding.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigprocmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct sockaddr_in sa;
  char req[1024];
  int reqlen;  // 0 without -r
  if (!client_target(addr, port, path, &sa, req, sizeof req, &reqlen)) usage();

  int* fds = calloc((size_t)n, sizeof *fds);
  if (!fds) return 1;
  long opened = 0;
  int rc = 0;
  for (; opened < n; opened++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      fprintf(stderr, "conns: socket #%ld: %s\n", opened, strerror(errno));
      rc = 1;
      break;
    }
    // Bounds connect (SO_SNDTIMEO applies to it on Linux) and each read.
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
      fprintf(stderr, "conns: connect #%ld: %s\n", opened, strerror(errno));
      close(fd);
      rc = 1;
      break;
    }
    fds[opened] = fd;
    if (path) {
      if (send(fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen || !read_response(fd)) {
        fprintf(stderr, "conns: request on #%ld failed: %s\n", opened, strerror(errno));
        opened++;
        rc = 1;
        break;
      }
    }
  }
  printf("ready %ld\n", opened);
  fflush(stdout);

  struct timespec ts = {.tv_sec = hold};
  while (sigtimedwait(&sigs, NULL, &ts) < 0 && errno == EINTR) {
  }

  // A connection the server closed shows up as readable with EOF (RDHUP/HUP).
  long alive = 0;
  for (long i = 0; i < opened; i++) {
    struct pollfd p = {.fd = fds[i], .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) continue;
    alive++;
  }
  printf("alive %ld/%ld\n", alive, n);
  fflush(stdout);
  for (long i = 0; i < opened; i++) close(fds[i]);
  free(fds);
  return rc;
}
