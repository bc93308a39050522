# bench/lib.sh: shell helpers the bench scripts share. Sourced, never run
# (bench/run.sh, bench/bigfile/run.sh, bench/microservice/run.sh); defines
# functions and sets nothing else.
#
#   running PID          the process exists and is not a zombie
#   stop_pid PID [TENTHS]  SIGTERM, up to TENTHS tenths of a second (30), then
#                        SIGKILL; reaps it when it is the caller's child
#   cpu_ticks PID...     utime+stime summed over the processes (all their
#                        threads), in clock ticks (getconf CLK_TCK); a process
#                        gone is left out
#   nginx_conf DIR PORT WORKERS DOCROOT
#                        writes DIR/nginx.conf: the peer every server is
#                        compared with (sendfile, tcp_nopush, tcp_nodelay, no
#                        access log, keep-alive without limits), its pid,
#                        error log and temp dirs under DIR

running() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]
}

stop_pid() {
  local p=$1 n=${2:-30} i
  kill -TERM "$p" 2>/dev/null || return 0
  for ((i = 0; i < n; i++)); do
    running "$p" || break
    sleep 0.1
  done
  running "$p" && kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  return 0
}

cpu_ticks() {
  local p s sum=0 f
  for p in "$@"; do
    { s=$(<"/proc/$p/stat"); } 2>/dev/null || continue
    read -ra f <<<"${s##*) }" # fields from 3 (state) on: utime is 14, stime 15
    sum=$((sum + f[11] + f[12]))
  done
  echo "$sum"
}

nginx_conf() {
  local d=$1 port=$2 workers=$3 root=$4
  mkdir -p "$d"
  cat >"$d/nginx.conf" <<EOF2
worker_processes $workers;
daemon off;
master_process on;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/body;
  proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi;
  scgi_temp_path $d/scgi;
  types { text/plain txt; application/octet-stream bin; }
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 300s;
  keepalive_requests 1000000000;
  server {
    listen 127.0.0.1:$port backlog=4096;
    root $root;
  }
}
EOF2
}
