"""The nginx configuration in front of QGIS Server, rendered by a pure function.

It is a complete `nginx.conf` (not a server block) so that nginx can run as any
non-root user on a read-only root filesystem: pid file and temp paths live in /tmp,
logs go to stdout/stderr, and it listens on an unprivileged port.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# QGIS answers capabilities, GML and SLD as XML and feature info as JSON; images are
# already compressed. nginx always adds text/html to gzip_types.
GZIP_TYPES = (
    "text/xml",
    "application/xml",
    "application/vnd.ogc.wms_xml",
    "application/vnd.ogc.se_xml",
    "application/vnd.ogc.gml",
    "application/gml+xml",
    "application/json",
    "application/geo+json",
    "application/vnd.geo+json",
)


@dataclass(frozen=True)
class CacheConf:
    size: str  # nginx size: the most disk the cache may use, e.g. 512m
    validity: str  # nginx time a cached image is served without asking QGIS, e.g. 10m


@dataclass(frozen=True)
class NginxConf:
    listen_port: int
    location: str  # URL path QGIS Server is served under, e.g. /qgis-server
    upstream_host: str
    upstream_port: int
    cache: Optional[CacheConf] = None  # None: every request reaches QGIS


# nginx's own figures for monitoring, on a port that is never published to users: stub_status
# for nginx-prometheus-exporter and the like, and /metrics, which Prometheus reads directly.
STATUS_PORT = 9145
METRICS_PATH = "/metrics"
_GAUGES = (
    ("active", "Client connections open, idle ones included."),
    ("reading", "Connections whose request nginx is reading."),
    ("writing", "Connections nginx is answering (waiting on QGIS or GeoNode included)."),
    ("waiting", "Idle keep-alive connections."),
)
_METRICS = "".join(f"# HELP nginx_connections_{name} {text}\\n# TYPE nginx_connections_{name} gauge\\n"
                   f"nginx_connections_{name} $connections_{name}\\n" for name, text in _GAUGES)


def nginx_size_bytes(size: str) -> int:
    """nginx size notation (100m, 2g, 512k, 1000) in bytes."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)


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
    # The combined format, plus what monitoring needs per request: the cache's answer (HIT,
    # MISS, BYPASS...; "-" uncached) and the upstream's status (502/504: FastCGI errors).
    log_format geostack '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                        '"$http_referer" "$http_user_agent" cache=$upstream_cache_status '
                        'upstream_status=$upstream_status request_time=$request_time';
    access_log /dev/stdout geostack;
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

    server {{
        listen {STATUS_PORT};
        server_name _;
        access_log off;

        location = /stub_status {{
            stub_status;
        }}

        location = {METRICS_PATH} {{
            default_type "text/plain; version=0.0.4";
            return 200 "{_METRICS}";
        }}

        location / {{
            return 404;
        }}
    }}
}}
"""


def _cache_http(cache: CacheConf) -> str:
    return f"""# Rendered maps are cached on disk, keyed by the full request URI.
fastcgi_cache_path /tmp/nginx-cache levels=1:2 keys_zone=qgis:10m max_size={cache.size} inactive=1h use_temp_path=off;
# A cache hit opens, stats and closes its file; keeping the hottest ones open cut nginx's CPU
# per hit by ~13% in the benchmark (docs/benchmark/). A replaced tile is re-checked within 60 s,
# and a removed one keeps its disk space for at most 30 s more.
open_file_cache max=1000 inactive=30s;

# Only requests whose answer depends on nothing but the URL: GetMap, WMTS GetTile and
# GetLegendGraphic (OGC parameter names and values are case-insensitive)...
map $query_string $qgis_cacheable_request {{
    default 0;
    "~*(^|&)request=(getmap|gettile|getlegendgraphic)(&|$)" 1;
}}
# ...and never for a client that brings credentials: an Authorization header or cookies.
map "$qgis_cacheable_request:$http_authorization:$http_cookie" $qgis_skip_cache {{
    default 1;
    "1::" 0;
}}"""


def _cache_location(cache: CacheConf) -> str:
    return f"""fastcgi_cache qgis;
fastcgi_cache_key "$request_method$request_uri";
fastcgi_cache_valid 200 {cache.validity};
fastcgi_cache_bypass $qgis_skip_cache;
fastcgi_no_cache $qgis_skip_cache;
# One request renders a missing tile while identical ones wait for it; QGIS errors and
# refreshes are answered from the stale copy.
fastcgi_cache_lock on;
fastcgi_cache_lock_timeout 30s;
fastcgi_cache_use_stale error timeout updating http_500 http_503;
fastcgi_cache_background_update on;
add_header X-Cache-Status $upstream_cache_status always;
"""


def render_nginx_conf(conf: NginxConf) -> str:
    """nginx.conf text for QGIS Server; `include fastcgi_params` resolves next to the file.

    No upstream keepalive: each FastCGI worker is single-threaded, and a connection nginx
    keeps open pins the worker that accepted it, so idle kept connections would starve
    requests on new ones.
    """
    cache_location = indent(_cache_location(conf.cache), 4) + "\n" if conf.cache else ""
    return nginx_main(conf.listen_port, f"""location {conf.location} {{
    include fastcgi_params;
    # The seed's 16 x 16k buffers, applied to FastCGI (proxy_* has no effect here):
    # a typical GetCapabilities or tile fits in memory without temp files.
    fastcgi_buffers 16 16k;
    fastcgi_buffer_size 16k;
    fastcgi_read_timeout 120s;
    # QGIS announces its exact version in Server:; don't hand that to scanners.
    fastcgi_hide_header Server;
{cache_location}    fastcgi_pass {conf.upstream_host}:{conf.upstream_port};
}}""", http_extra=_cache_http(conf.cache) if conf.cache else "")
