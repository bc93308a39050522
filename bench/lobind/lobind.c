// liblobind.so: an LD_PRELOAD shim that keeps a benchmarked program on the
// loopback interface. The hello example is the README's program verbatim and
// listens on port 8080 on every address; benchmarks must listen on 127.0.0.1
// only, on a port of their own choosing. With this preloaded, every TCP
// bind() is rewritten:
//   - AF_INET  -> 127.0.0.1
//   - AF_INET6 -> ::ffff:127.0.0.1 (IPV6_V6ONLY switched off so IPv4 clients
//                 reach it); where that fails, ::1
//   - LOBIND_PORT=N (if set) replaces the port of the first bind (0: the kernel
//     picks); every later bind reuses the first bind's port, so SO_REUSEPORT
//     workers still share one port.
//   - LOBIND_PORT_FILE=PATH (if set) gets one line per successful bind: the
//     bound port in decimal.
// bench/run.sh checks with ss(8) that the server really listens on loopback
// only, so a program that binds by a raw syscall is caught, not trusted.
//
// No _GNU_SOURCE: with it glibc declares bind() with a transparent union,
// which a plain definition cannot match.
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef RTLD_NEXT
#define RTLD_NEXT ((void*)-1L)  // glibc's value; <dlfcn.h> shows it only under _GNU_SOURCE
#endif

typedef int (*bind_fn)(int, const struct sockaddr*, socklen_t);

static _Atomic int g_port = -1;  // port of the first rewritten bind, once known

int bind(int fd, const struct sockaddr* addr, socklen_t len);

static bind_fn real_bind(void) {
  static bind_fn fn;
  if (!fn) {
    void* sym = dlsym(RTLD_NEXT, "bind");
    memcpy(&fn, &sym, sizeof fn);
  }
  return fn;
}

static int wanted_port(int original) {
  int known = atomic_load(&g_port);
  if (known >= 0) return known;
  const char* env = getenv("LOBIND_PORT");
  if (!env || !*env) return original;
  char* end;
  long v = strtol(env, &end, 10);
  return (*end || v < 0 || v > 65535) ? original : (int)v;
}

static void report(int fd) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr*)&ss, &sl) != 0) return;
  int port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6*)&ss)->sin6_port)
                                      : ntohs(((struct sockaddr_in*)&ss)->sin_port);
  int expect = -1;
  atomic_compare_exchange_strong(&g_port, &expect, port);
  const char* file = getenv("LOBIND_PORT_FILE");
  if (!file || !*file) return;
  int out = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) return;
  char line[16];
  int n = snprintf(line, sizeof line, "%d\n", port);
  if (write(out, line, (size_t)n) != n) {
    // Nothing to do: the harness times out waiting for the port.
  }
  close(out);
}

int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  bind_fn next = real_bind();
  if (!next) {
    errno = ENOSYS;
    return -1;
  }
  int type = 0;
  socklen_t tl = sizeof type;
  if (!addr || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM)
    return next(fd, addr, len);

  int rc;
  if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    struct sockaddr_in a;
    memcpy(&a, addr, sizeof a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)wanted_port(ntohs(a.sin_port)));
    rc = next(fd, (const struct sockaddr*)&a, sizeof a);
  } else if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6 a;
    memcpy(&a, addr, sizeof a);
    a.sin6_port = htons((uint16_t)wanted_port(ntohs(a.sin6_port)));
    int off = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
    rc = next(fd, (const struct sockaddr*)&a, sizeof a);
    if (rc != 0 && errno != EADDRINUSE) {
      a.sin6_addr = in6addr_loopback;
      rc = next(fd, (const struct sockaddr*)&a, sizeof a);
    }
  } else {
    return next(fd, addr, len);
  }
  if (rc == 0) report(fd);
  return rc;
}
