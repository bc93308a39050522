// floor: the ceiling for the server benchmarks. One thread, level-triggered
// epoll, no HTTP parsing at all: it answers one fixed response per "\r\n\r\n"
// it sees, so a pipelined batch gets one response each, coalesced into one
// write. Whatever a real server does beyond this costs something; this
// measures what the kernel, loopback and the client cost on their own.
//
//   floor [-a IPV4ADDR] [-p PORT]     defaults 127.0.0.1, port 0 (kernel picks)
//
// Prints the bound port as one decimal line on stdout, then serves until
// killed (SIGINT/SIGTERM end it). Not a test target: bench/run.sh drives it.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

// Same body as the hello example, so both put the same bytes on the wire
// give or take the headers a real server adds (Date, Server).
static const char k_resp[] = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 20\r\n"
                             "\r\n"
                             "hello from hachettp\n";
enum { RESP_LEN = sizeof k_resp - 1 };
// Responses pre-built back to back so that a pipelined batch goes out as one
// write without copying per request.
enum { RESP_BATCH = 256, BATCH_LEN = RESP_BATCH * RESP_LEN };
static char g_batch[BATCH_LEN];

enum { READ_BUF = 64 * 1024, MAX_EVENTS = 256 };

// Per-fd state, indexed by fd. `pending` counts response bytes not yet
// written; the stream is the response repeated, and it always ends on a
// response boundary, so the resume offset follows from `pending` alone.
typedef struct {
  uint64_t pending;
  uint8_t match;  // how much of "\r\n\r\n" the previous bytes ended with
  bool want_out;  // EPOLLOUT armed
} conn_t;

static conn_t* g_conns;
static size_t g_nconns;
static int g_ep;
static int g_reserve_fd = -1;  // spare fd, given up to shed a connection on EMFILE

static void die(const char* what) {
  perror(what);
  exit(1);
}

// Counts "\r\n\r\n" occurrences in buf, carrying a partial match across reads.
static uint64_t count_ends(const char* buf, size_t n, uint8_t* match) {
  static const char pat[4] = {'\r', '\n', '\r', '\n'};
  uint64_t found = 0;
  uint8_t m = *match;
  const char* p = buf;
  const char* end = buf + n;
  while (p < end) {
    if (m == 0) {
      // Skip straight to the next CR: most bytes of a request are not one.
      p = memchr(p, '\r', (size_t)(end - p));
      if (!p) break;
      m = 1;
      p++;
      continue;
    }
    char c = *p++;
    if (c == pat[m]) {
      if (++m == 4) {
        found++;
        m = 0;
      }
    } else {
      m = c == '\r' ? 1 : 0;
    }
  }
  *match = m;
  return found;
}

static void close_conn(int fd) {
  g_conns[fd] = (conn_t){0};
  close(fd);  // also drops it from the epoll set
}

static void set_out(int fd, bool on) {
  if (g_conns[fd].want_out == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.fd = fd};
  if (epoll_ctl(g_ep, EPOLL_CTL_MOD, fd, &ev) != 0) die("epoll_ctl mod");
  g_conns[fd].want_out = on;
}

// Writes as much of the pending responses as the socket takes.
// Returns false when the connection is gone.
static bool flush(int fd) {
  conn_t* c = &g_conns[fd];
  while (c->pending > 0) {
    size_t off = (size_t)((RESP_LEN - c->pending % RESP_LEN) % RESP_LEN);
    size_t len = BATCH_LEN - off;
    if (len > c->pending) len = (size_t)c->pending;
    ssize_t w = write(fd, g_batch + off, len);
    if (w > 0) {
      c->pending -= (uint64_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      set_out(fd, true);
      return true;
    }
    return false;
  }
  set_out(fd, false);
  return true;
}

static void on_readable(int fd) {
  static char buf[READ_BUF];
  conn_t* c = &g_conns[fd];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r > 0) {
      c->pending += count_ends(buf, (size_t)r, &c->match) * RESP_LEN;
      // A short read means the socket is drained: level-triggered epoll will
      // report more, so skip the read that would only say EAGAIN.
      if ((size_t)r < sizeof buf) break;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    close_conn(fd);  // EOF or error
    return;
  }
  if (c->pending > 0 && !c->want_out && !flush(fd)) close_conn(fd);
}

static void on_accept(int lfd) {
  for (int i = 0; i < 64; i++) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && g_reserve_fd >= 0) {
        // Out of fds: accept and drop one so level-triggered epoll does not
        // spin on a backlog it cannot take.
        close(g_reserve_fd);
        int tmp = accept(lfd, NULL, NULL);
        if (tmp >= 0) close(tmp);
        g_reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        continue;
      }
      return;  // EAGAIN, or nothing useful to do about it
    }
    if ((size_t)fd >= g_nconns) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    g_conns[fd] = (conn_t){0};
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl add");
  }
}

static void usage(void) {
  fprintf(stderr, "usage: floor [-a IPV4ADDR] [-p PORT]   (defaults 127.0.0.1, port 0 = kernel picks)\n");
  exit(2);
}

int main(int argc, char** argv) {
  const char* addr = "127.0.0.1";
  long port = 0;
  int opt;
  while ((opt = getopt(argc, argv, "a:p:h")) != -1) {
    char* end;
    switch (opt) {
      case 'a':
        addr = optarg;
        break;
      case 'p':
        errno = 0;
        port = strtol(optarg, &end, 10);
        if (errno || *end || port < 0 || port > 65535) usage();
        break;
      default:
        usage();
    }
  }
  if (optind != argc) usage();

  signal(SIGPIPE, SIG_IGN);
  // 1,000 open connections must fit: take the hard limit.
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  g_nconns = rl.rlim_cur > (1u << 20) ? (1u << 20) : (size_t)rl.rlim_cur;
  // calloc of a large table maps zero pages: untouched entries cost no RSS.
  g_conns = calloc(g_nconns, sizeof *g_conns);
  if (!g_conns) die("calloc");
  for (int i = 0; i < RESP_BATCH; i++) memcpy(g_batch + (size_t)i * RESP_LEN, k_resp, RESP_LEN);
  g_reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) usage();
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, (struct sockaddr*)&sa, sizeof sa) != 0) die("bind");
  if (listen(lfd, 4096) != 0) die("listen");
  socklen_t salen = sizeof sa;
  if (getsockname(lfd, (struct sockaddr*)&sa, &salen) != 0) die("getsockname");
  printf("%u\n", ntohs(sa.sin_port));
  fflush(stdout);

  g_ep = epoll_create1(EPOLL_CLOEXEC);
  if (g_ep < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
  if (epoll_ctl(g_ep, EPOLL_CTL_ADD, lfd, &lev) != 0) die("epoll_ctl listen");

  struct epoll_event evs[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(g_ep, evs, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      uint32_t e = evs[i].events;
      if (fd == lfd) {
        on_accept(lfd);
        continue;
      }
      if (e & EPOLLOUT) {
        if (!flush(fd)) {
          close_conn(fd);
          continue;
        }
      }
      if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(fd);
    }
  }
}
