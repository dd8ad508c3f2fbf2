#!/bin/bash
# Runs QGIS Server as N single-threaded FastCGI workers sharing one port.
# spawn-fcgi opens the socket and execs multiwatch, which forks the workers and
# respawns any that die. This script execs into that chain, so the supervisor is the
# process tini signals: on SIGTERM multiwatch stops its workers and exits.
set -euo pipefail

[[ "${DEBUG:-0}" == "1" ]] && env

# CPUs this container may use: its cgroup CPU quota (v2 or v1) if it has one,
# else the cores it may be scheduled on. Never fewer than one.
cpu_count() {
  local quota="max" period=100000
  if [[ -r /sys/fs/cgroup/cpu.max ]]; then
    read -r quota period < /sys/fs/cgroup/cpu.max
  elif [[ -r /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then
    quota="$(< /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"
    period="$(< /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
    [[ "$quota" == "-1" ]] && quota="max"
  fi
  if [[ "$quota" != "max" && "$period" -gt 0 ]]; then
    echo $(( (quota + period - 1) / period ))
  else
    nproc
  fi
}

# A virtual display for QGIS's rendering stack, started the way xvfb-run does it but
# left in the background, so that the FastCGI supervisor (not a shell) gets the signals.
start_xvfb() {
  local display=99
  while [[ -e "/tmp/.X${display}-lock" ]]; do
    display=$((display + 1))
  done
  Xvfb ":${display}" -screen 0 1280x1024x24 -nolisten tcp >/dev/null 2>&1 &
  export DISPLAY=":${display}"
}

port="${QGIS_FCGI_PORT:-5555}"
address="${QGIS_FCGI_ADDRESS:-0.0.0.0}"
processes="${QGIS_FCGI_PROCESSES:-0}"
if [[ "$processes" == "0" ]]; then
  processes="$(cpu_count)"
fi
echo "qgis-server: $processes FastCGI worker(s) on $address:$port" >&2

start_xvfb
exec /usr/bin/spawn-fcgi -n -p "$port" -a "$address" -d "${HOME:-/tmp}" -- \
  /usr/bin/multiwatch -f "$processes" -- /usr/lib/cgi-bin/qgis_mapserv.fcgi
