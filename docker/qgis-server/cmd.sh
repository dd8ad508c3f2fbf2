#!/bin/bash
# Runs QGIS Server as N single-threaded FastCGI workers sharing one port.
# spawn-fcgi opens the socket and execs multiwatch, which forks the workers and
# respawns any that die; every step execs, so signals reach the workers.
set -euo pipefail

[[ "${DEBUG:-0}" == "1" ]] && env

# CPUs this container may use: its cgroup quota if it has one, else the visible cores.
cpu_count() {
  local quota period
  if [[ -r /sys/fs/cgroup/cpu.max ]]; then
    read -r quota period < /sys/fs/cgroup/cpu.max
    if [[ "$quota" != "max" ]]; then
      echo $(( (quota + period - 1) / period ))
      return
    fi
  fi
  nproc
}

port="${QGIS_FCGI_PORT:-5555}"
address="${QGIS_FCGI_ADDRESS:-0.0.0.0}"
processes="${QGIS_FCGI_PROCESSES:-0}"
if [[ "$processes" == "0" ]]; then
  processes="$(cpu_count)"
fi
echo "qgis-server: $processes FastCGI worker(s) on $address:$port" >&2

exec /usr/bin/xvfb-run --auto-servernum --server-num=1 \
  /usr/bin/spawn-fcgi -n -p "$port" -a "$address" -d "${HOME:-/tmp}" -- \
  /usr/bin/multiwatch -f "$processes" -- /usr/lib/cgi-bin/qgis_mapserv.fcgi
