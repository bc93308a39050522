// bench/lib/client.h: what the C bench clients (bench/bigfile/bigget.c,
// bench/conns/conns.c) share: a numeric option in range, the -F free port,
// and the server's IPv4 address with the one GET each of them sends.
// Header only (static functions): each client is a single file, and this
// keeps it that way. Include after _GNU_SOURCE and the system headers.
#ifndef BENCH_LIB_CLIENT_H
#define BENCH_LIB_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

// s as a decimal number in [lo, hi]; anything else calls usage (which
// exits; so does this, should it return).
static long client_num(const char* s, long lo, long hi, void (*usage)(void)) {
  char* end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi) {
    usage();
    exit(2);
  }
  return v;
}

// -F: prints a 127.0.0.1 port the kernel picked (free when this returns),
// for the scripts that start a server on it. The exit status for main.
static int client_free_port(const char* prog) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  if (fd < 0 || bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0 ||
      getsockname(fd, (struct sockaddr*)&sa, &len) != 0) {
    fprintf(stderr, "%s: free port: %s\n", prog, strerror(errno));
    return 1;
  }
  printf("%u\n", ntohs(sa.sin_port));
  close(fd);
  return 0;
}

// The server's address (addr, IPv4 dotted) into *sa and, when path is set,
// "GET path HTTP/1.1" with a Host of addr:port into req (its length into
// *reqlen; 0 without a path). False on a bad address or a request over cap.
static bool client_target(const char* addr, long port, const char* path, struct sockaddr_in* sa,
                          char* req, size_t cap, int* reqlen) {
  *sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) return false;
  *reqlen = 0;
  if (path == NULL) return true;
  *reqlen = snprintf(req, cap, "GET %s HTTP/1.1\r\nHost: %s:%ld\r\n\r\n", path, addr, port);
  return *reqlen > 0 && (size_t)*reqlen < cap;
}

#endif  // BENCH_LIB_CLIENT_H
