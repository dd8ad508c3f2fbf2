"""The nginx configuration in front of QGIS Server, rendered by a pure function.

It is a complete `nginx.conf` (not a server block) so that nginx can run as any
non-root user on a read-only root filesystem: pid file and temp paths live in /tmp,
logs go to stdout/stderr, and it listens on an unprivileged port.
"""
from __future__ import annotations

from dataclasses import dataclass

# QGIS answers WMS/WFS capabilities, GML and SLD as XML; images are already compressed.
# nginx always adds text/html to gzip_types.
GZIP_TYPES = (
    "text/xml",
    "application/xml",
    "application/vnd.ogc.wms_xml",
    "application/vnd.ogc.se_xml",
    "application/vnd.ogc.gml",
    "application/gml+xml",
)


@dataclass(frozen=True)
class NginxConf:
    listen_port: int
    location: str  # URL path QGIS Server is served under, e.g. /qgis-server
    upstream_host: str
    upstream_port: int


def indent(block: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in block.splitlines())


def nginx_main(listen_port: int, locations: str, http_extra: str = "", source: str = "components/nginx_conf.py",
               gzip_types: tuple[str, ...] = GZIP_TYPES) -> str:
    """A complete nginx.conf: one unprivileged server with a /healthz endpoint and `locations`."""
    http_lines = indent(http_extra, 4) + "\n\n" if http_extra else ""
    return f"""# Rendered by geostack ({source}); edit the stack config, not this file.
worker_processes auto;
pid /tmp/nginx.pid;
error_log stderr warn;

events {{
    worker_connections 1024;
}}

http {{
    default_type application/octet-stream;
    access_log /dev/stdout;
    server_tokens off;
    sendfile on;
    keepalive_timeout 65s;

    client_body_temp_path /tmp/nginx-client-body;
    fastcgi_temp_path /tmp/nginx-fastcgi;
    proxy_temp_path /tmp/nginx-proxy;
    uwsgi_temp_path /tmp/nginx-uwsgi;
    scgi_temp_path /tmp/nginx-scgi;

    gzip on;
    gzip_proxied any;
    gzip_min_length 1024;
    gzip_types {" ".join(gzip_types)};

{http_lines}    server {{
        listen {listen_port};
        server_name _;

        location = /healthz {{
            access_log off;
            default_type text/plain;
            return 200 "ok\\n";
        }}

{indent(locations, 8)}
    }}
}}
"""


def render_nginx_conf(conf: NginxConf) -> str:
    """nginx.conf text for QGIS Server; `include fastcgi_params` resolves next to the file."""
    return nginx_main(conf.listen_port, f"""location {conf.location} {{
    include fastcgi_params;
    # The seed's 16 x 16k buffers, applied to FastCGI (proxy_* has no effect here):
    # a typical GetCapabilities or tile fits in memory without temp files.
    fastcgi_buffers 16 16k;
    fastcgi_buffer_size 16k;
    fastcgi_read_timeout 120s;
    # QGIS announces its exact version in Server:; don't hand that to scanners.
    fastcgi_hide_header Server;
    fastcgi_pass {conf.upstream_host}:{conf.upstream_port};
}}""")
