#!/usr/bin/env bash
# Every 0.25 s (as the machine allows): the wall time, the idle+iowait ticks of
# all CPUs since the last line (/proc/stat), and the CPU ticks since the last
# line of every process named microservice, wrk and postgres (utime+stime from
# /proc/PID/stat, summed by name; a negative delta means processes of that
# name ended). Run it beside run.sh to tell a starved machine (no idle ticks,
# every process getting little) from a stall (idle ticks while nothing runs).
#   bench/microservice/sampler.sh > samples.txt &   ...   kill %1
prev_idle=0
declare -A prev=()
while true; do
  read -r _ _ _ _ idle iow _ </proc/stat
  out="$(date +%T.%N | cut -c1-11) idle=$((idle + iow - prev_idle))"
  prev_idle=$((idle + iow))
  for name in microservice wrk postgres; do
    sum=0
    for p in $(pgrep -x "$name"); do
      st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
      read -ra f <<<"${st##*) }"
      sum=$((sum + f[11] + f[12]))
    done
    out+=" $name=$((sum - ${prev[$name]:-0}))"
    prev[$name]=$sum
  done
  echo "$out"
  sleep 0.25
done
