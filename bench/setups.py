"""The servers the benchmark compares, each serving one QGIS project on loopback.

- seed: the seed's recipe, one `spawn-fcgi -n` process behind the seed's nginx block, no cache;
- geostack: the image's cmd.sh with the env the dev stack declares, behind the nginx config the
  program renders (with its map cache);
- apache: what many users pick instead, Apache with mod_fcgid configured the way the
  camptocamp/qgis-server image runs QGIS (its qgis.conf and FCGID_* defaults), with the same
  number of QGIS workers as geostack.

For uncached GetMap the benchmark also drives two seeds at once, each with half the connections:
the machine's own ceiling for two workers.

Each is a context manager yielding (base URL, session id of its QGIS processes).
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from pathlib import Path
from typing import Iterator

from offline.loopback import (free_port, loopback_nginx_conf, nginx, qgis_server, replace_once, scratch_dir,
                              stop_group, wait_until)

QGIS_FCGI = "/usr/lib/cgi-bin/qgis_mapserv.fcgi"

SEED_NGINX = """pid {scratch}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {scratch}/body; fastcgi_temp_path {scratch}/fastcgi;
  proxy_temp_path {scratch}/proxy; uwsgi_temp_path {scratch}/uwsgi; scgi_temp_path {scratch}/scgi;
  # The seed's block, verbatim but for the listen address and upstream.
  server {{
    listen 127.0.0.1:{port};
    server_name _;
    location = /healthz {{ return 200; }}
    location /qgis-server {{
      proxy_buffers 16 16k;
      proxy_buffer_size 16k;
      gzip off;
      include fastcgi_params;
      fastcgi_pass 127.0.0.1:{qgis_port};
    }}
  }}
}}
"""

# camptocamp/qgis-server's runtime/etc/apache2/conf-enabled/qgis.conf with its image's FCGID_*
# defaults (1000 requests per process, busy and idle timeouts 300 s, I/O timeout 40 s), every
# path handled by QGIS; min and max processes set to the worker count under test. The rest is
# the minimum a private Apache needs: Debian's mpm_event, loopback only, files in a scratch dir.
APACHE_CONF = """ServerRoot /etc/apache2
ServerName localhost
Listen 127.0.0.1:{port}
PidFile {scratch}/apache.pid
ErrorLog {scratch}/error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so
LoadModule fcgid_module /usr/lib/apache2/modules/mod_fcgid.so
FcgidIPCDir {scratch}/fcgid
FcgidProcessTableFile {scratch}/fcgid/table
FcgidInitialEnv QGIS_PROJECT_FILE {project}
FcgidInitialEnv QGIS_SERVER_LOG_STDERR 1
FcgidInitialEnv QGIS_SERVER_LOG_LEVEL 2
FcgidInitialEnv HOME {scratch}/home
FcgidInitialEnv TMPDIR {scratch}/home
FcgidInitialEnv DISPLAY {display}

FcgidMaxRequestsPerProcess 1000
FcgidMinProcessesPerClass {workers}
FcgidMaxProcessesPerClass {workers}
FcgidBusyTimeout 300
FcgidIdleTimeout 300
FcgidIOTimeout 40

Alias /healthz {scratch}/healthz
ScriptAliasMatch "^/qgis-server" {fcgi}
<LocationMatch "^/qgis-server">
    SetHandler fcgid-script
    Options +ExecCGI
    Require all granted
    Header set Access-Control-Allow-Origin "*"
</LocationMatch>
<Directory {scratch}>
    Require all granted
</Directory>
"""


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def seed_setup(project: Path) -> Iterator[tuple[str, int]]:
    qgis_port, port = free_port(), free_port()
    with scratch_dir("bench-seed-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QGIS_")}
        env.update({"QGIS_PROJECT_FILE": str(project), "QGIS_SERVER_LOG_STDERR": "1",
                    "QGIS_SERVER_LOG_LEVEL": "2", "HOME": str(scratch), "TMPDIR": str(scratch)})
        with open(scratch / "qgis.log", "wb") as log:
            process = subprocess.Popen(
                ["xvfb-run", "--auto-servernum", "spawn-fcgi", "-p", str(qgis_port), "-a", "127.0.0.1", "-n", "-d",
                 str(scratch), "--", QGIS_FCGI], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(lambda: port_open(qgis_port), 60, "seed QGIS")
            with nginx(SEED_NGINX.format(scratch=scratch, port=port, qgis_port=qgis_port), port, scratch) as url:
                yield url, process.pid
        finally:
            stop_group(process)


STATIC_PATH = "/bench-static.png"
STATIC_TILES = "/bench-tiles/"


@contextlib.contextmanager
def geostack_setup(declared: dict, data_dir: Path, project: Path, static_dir: Path) -> Iterator[tuple[str, int]]:
    """Also serves, from the same nginx, `static_dir`/static.png at STATIC_PATH and the files in
    `static_dir`/tiles/ under STATIC_TILES: the proxy's own ceilings for cached tiles."""
    qgis_port, port = free_port(), free_port()
    # The declared stack serves the sample at nginxPath; the benchmark's project takes its place.
    declared_project = declared["env"]["QGIS_HEALTHCHECK_PROJECT"]
    env = {**declared["env"], "QGIS_HEALTHCHECK_PROJECT": str(project)}
    with qgis_server(env, data_dir, qgis_port) as qgis, scratch_dir("bench-geostack-") as scratch:
        conf = replace_once(declared["nginx_conf"], f"QGIS_PROJECT_FILE {declared_project};",
                            f"QGIS_PROJECT_FILE {project};")
        conf = loopback_nginx_conf(conf, port, declared["upstream"], qgis_port, scratch, data_dir)
        conf = replace_once(conf, "location = /healthz {",
                            f"location = {STATIC_PATH} {{ alias {static_dir}/static.png; }}\n"
                            f"        location {STATIC_TILES} {{ alias {static_dir}/tiles/; }}\n"
                            "        location = /healthz {")
        with nginx(conf, port, scratch) as url:
            yield url, qgis["process"].pid


@contextlib.contextmanager
def apache_setup(project: Path, workers: int) -> Iterator[tuple[str, int]]:
    port, display = free_port(), f":{free_display()}"
    with scratch_dir("bench-apache-") as scratch:
        for sub in ("fcgid", "home"):
            (scratch / sub).mkdir()
        (scratch / "healthz").write_text("ok\n")
        subprocess.run(["chown", "-R", "www-data:www-data", str(scratch / "fcgid"), str(scratch / "home")], check=True)
        scratch.chmod(0o755)
        conf = scratch / "apache.conf"
        conf.write_text(APACHE_CONF.format(port=port, scratch=scratch, project=project, display=display,
                                           workers=workers, fcgi=QGIS_FCGI))
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        apache = subprocess.Popen(["apache2", "-f", str(conf), "-DFOREGROUND"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until(lambda: apache.poll() is None and port_open(port), 30, "Apache")
            yield url, apache.pid
        finally:
            stop_group(apache)
            stop_group(xvfb)


def free_display() -> int:
    display = 200
    while Path(f"/tmp/.X{display}-lock").exists():
        display += 1
    return display
