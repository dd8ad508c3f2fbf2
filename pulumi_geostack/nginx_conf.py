"""The nginx configuration in front of QGIS Server, rendered by a pure function.

It is a complete `nginx.conf` (not a server block) so that nginx can run as any
non-root user on a read-only root filesystem: pid file and temp paths live in /tmp,
logs go to stdout/stderr, and it listens on an unprivileged port.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pulumi_geostack.qgis_projects import URL_SAFE_NAME

# The FastCGI parameter that names a project on a claim to the image's geostack_projects plugin.
PROJECT_NAME_PARAM = "GEOSTACK_PROJECT_NAME"

# QGIS answers capabilities, GML and SLD as XML and feature info as JSON; images are
# already compressed. nginx always adds text/html to gzip_types. nginx compares a type up to its
# charset parameter, so WFS's GML ("text/xml; subtype=gml/3.1.1; charset=utf-8") needs its own
# entries, subtype included: without them WFS features, QGIS's largest XML, went uncompressed.
GZIP_TYPES = (
    "text/xml",
    '"text/xml; subtype=gml/2.1.2"',
    '"text/xml; subtype=gml/3.1.1"',
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
    min_uses: int = 1  # requests for one map before it is written to the cache


@dataclass(frozen=True)
class ProjectRoute:
    """A project nginx serves at /ogc/<name>."""

    name: str
    path: str  # the file QGIS opens, e.g. /data/roads/roads.qgz
    landing_page_id: str  # the id QGIS's landing page links it by
    upstream: str = ""  # host:port of the QGIS server that has it; empty: NginxConf's upstream


@dataclass(frozen=True)
class NginxConf:
    listen_port: int
    location: str  # URL path the default project is served under, e.g. /qgis-server
    upstream_host: str
    upstream_port: int
    default_project: str  # the file `location` serves, e.g. /data/sample.qgs
    projects: tuple[ProjectRoute, ...] = ()
    data_version: str = ""  # changes with the project data: part of every cache key
    cache: Optional[CacheConf] = None  # None: every request reaches QGIS
    # A DNS server to look QGIS up with per request, where a replaced container gets a new address
    # (Docker); empty: once at start (a Kubernetes Service's address stays put).
    resolver: str = ""
    # A claim: its projects are not known when this is rendered, so nginx passes /ogc/<name> on with
    # the name alone, and the image's QGIS plugin (geostack_projects) finds the file.
    qgis_finds_projects: bool = False


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


def nginx_main(listen_port: int, locations: str, http_extra: str = "", source: str = "pulumi_geostack/nginx_conf.py",
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


def _cache_location(cache: CacheConf, data_version: str) -> str:
    # The data version in the key: maps rendered from an older version of the projects are
    # never served once nginx runs with the new one.
    return f"""fastcgi_cache qgis;
fastcgi_cache_key "{data_version}$request_method$request_uri";
fastcgi_cache_valid 200 {cache.validity};
fastcgi_cache_min_uses {cache.min_uses};
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


# The address clients used, which QGIS writes into every URL it returns (capabilities, OGC API
# links, the landing page): an outer proxy's X-Forwarded-Host/Proto, else the request's own
# Host header with its port. QGIS reads WMS/WFS URLs from X-Forwarded-* and OGC API and landing
# page links from SERVER_NAME, SERVER_PORT and HTTPS, so both are set from the same values.
_PUBLIC_ADDRESS = r"""map $http_x_forwarded_host $qgis_public_host {
    "" $http_host;
    default $http_x_forwarded_host;
}
map $http_x_forwarded_proto $qgis_public_proto {
    "" $scheme;
    default $http_x_forwarded_proto;
}
map $qgis_public_host $qgis_public_name {
    "~^(?<qgis_host_name>\[[^\]]*\]|[^:]*)" $qgis_host_name;
}
# QGIS leaves port 80 out of its URLs: that is also what a scheme's default port must look like.
map $qgis_public_host $qgis_public_port {
    "~:(?<qgis_host_port>[0-9]+)$" $qgis_host_port;
    default 80;
}
map $qgis_public_proto $qgis_https {
    https on;
    default "";
}

# Clients never name the project file: QGIS opens whatever path a MAP parameter names, in any
# case and percent-encoding of the name (it decodes both), so any request that has one is refused.
map $args $qgis_names_a_file {
    default 0;
    "~*(^|&)(m|%4d|%6d)(a|%41|%61)(p|%50|%70)(=|&|$)" 1;
}"""


def _projects_http(conf: NginxConf) -> str:
    files = "".join(f'\n    {p.name} "{p.path}";' for p in conf.projects)
    ids = "".join(f"\n    {p.landing_page_id} {p.name};" for p in conf.projects)
    return f"""# /ogc/<name>: the projects of the project folder; any other name is 404 and never reaches QGIS.
map $qgis_project_name $qgis_project_file {{
    default "";{files}
}}{_upstreams_http(conf)}
# The landing page links projects by id; each id leads to its /ogc/<name> address.
map $qgis_project_id $qgis_project_for_id {{
    default "";{ids}
}}"""


def _upstreams(conf: NginxConf) -> list[str]:
    """host:port of every QGIS server, the conf's own first."""
    own = f"{conf.upstream_host}:{conf.upstream_port}"
    return list(dict.fromkeys([own, *(p.upstream for p in conf.projects if p.upstream)]))


def _upstreams_http(conf: NginxConf) -> str:
    """Several QGIS servers: which one has each project. nginx looks up a name given in a variable
    per request, with the resolver (Docker); without one (a Kubernetes Service's address stays
    put) the variable names an upstream block, whose name nginx looks up once at start."""
    upstreams = _upstreams(conf)
    if len(upstreams) == 1:
        return ""
    called = {address: address if conf.resolver else f"qgis_server_{i}" for i, address in enumerate(upstreams)}
    blocks = "".join(f"\nupstream {called[address]} {{\n    server {address};\n}}"
                     for address in upstreams if not conf.resolver)
    routes = "".join(f"\n    {p.name} {called[p.upstream]};" for p in conf.projects if p.upstream)
    return f"""
# The QGIS server each project of /ogc/<name> is on.{blocks}
map $qgis_project_name $qgis_project_server {{
    default {called[upstreams[0]]};{routes}
}}"""


def _fastcgi(conf: NginxConf, project_file: str, server: str = "") -> str:
    """Pass the request to QGIS with `project_file` (a path or an nginx variable) as its project;
    to `server` (an nginx variable) when given, else to the conf's upstream."""
    upstream = f"{conf.upstream_host}:{conf.upstream_port}"
    if server:
        passing = f"fastcgi_pass {server};"
    elif conf.resolver:  # nginx looks a name up once, unless the address comes from a variable
        passing = f"set $qgis_fastcgi {upstream};\nfastcgi_pass $qgis_fastcgi;"
    else:
        passing = f"fastcgi_pass {upstream};"
    project = f"fastcgi_param QGIS_PROJECT_FILE {project_file};\n" if project_file else ""
    return f"""# Before the include: QGIS reads the first value of a parameter given twice.
{project}fastcgi_param SERVER_NAME $qgis_public_name;
fastcgi_param SERVER_PORT $qgis_public_port;
fastcgi_param HTTPS $qgis_https if_not_empty;
fastcgi_param HTTP_X_FORWARDED_HOST $qgis_public_host;
fastcgi_param HTTP_X_FORWARDED_PROTO $qgis_public_proto;
include fastcgi_params;
# The seed's 16 x 16k buffers, applied to FastCGI (proxy_* has no effect here):
# a typical GetCapabilities or tile fits in memory without temp files.
fastcgi_buffers 16 16k;
fastcgi_buffer_size 16k;
fastcgi_read_timeout 120s;
# QGIS announces its exact version in Server:; don't hand that to scanners.
fastcgi_hide_header Server;
{passing}"""


def _ogc_location(conf: NginxConf, cache: str) -> str:
    """/ogc/<name>: a project of the folder by its name or (a claim, PostgreSQL) a name QGIS looks up."""
    server = "$qgis_project_server" if len(_upstreams(conf)) > 1 else ""
    if not conf.qgis_finds_projects:
        return f"""location ~ ^/ogc/(?<qgis_project_name>[^/]+)(/|$) {{
    if ($qgis_project_file = "") {{
        return 404;
    }}
{cache}{indent(_fastcgi(conf, "$qgis_project_file", server), 4)}
}}"""
    return f"""# Projects on a claim or in PostgreSQL are not known when this file is rendered: QGIS's
# geostack_projects plugin finds <name>.qgs or .qgz anywhere in the project folder, or a project
# of that name saved in PostgreSQL. Only a URL-safe name is passed on, never a path:
# the name must stand in the request as sent, not just once nginx has decoded %2F into a slash.
location ~ ^/ogc/(?<qgis_project_name>{URL_SAFE_NAME})(/|$) {{
    if ($request_uri !~ "^/ogc/{URL_SAFE_NAME}([/?]|$)") {{
        return 404;
    }}
{cache}    fastcgi_param {PROJECT_NAME_PARAM} $qgis_project_name;
{indent(_fastcgi(conf, ""), 4)}
}}"""


def _project_id_location(conf: NginxConf, cache: str) -> str:
    """/project/<id>, the landing page's links: to /ogc/<name> or, on a claim, to QGIS, which
    knows the id of each project it lists and opens no other."""
    if conf.qgis_finds_projects:
        return f"""location ~ "^/project/[0-9a-f]{{32}}(/.*)?$" {{
{cache}{indent(_fastcgi(conf, ""), 4)}
}}"""
    return """location ~ "^/project/(?<qgis_project_id>[0-9a-f]{32})(?<qgis_project_rest>/.*)?$" {
    if ($qgis_project_for_id = "") {
        return 404;
    }
    return 301 /ogc/$qgis_project_for_id$qgis_project_rest$is_args$args;
}"""


def render_nginx_conf(conf: NginxConf) -> str:
    """nginx.conf text for QGIS Server; `include fastcgi_params` resolves next to the file.

    No upstream keepalive: each FastCGI worker is single-threaded, and a connection nginx
    keeps open pins the worker that accepted it, so idle kept connections would starve
    requests on new ones.
    """
    if conf.qgis_finds_projects and len(_upstreams(conf)) > 1:
        raise ValueError("projects QGIS finds by name (on a claim, in PostgreSQL) are all on the conf's own "
                         "upstream: a project on another server must be listed with its upstream")
    cache = indent(_cache_location(conf.cache, conf.data_version), 4) + "\n" if conf.cache else ""
    locations = f"""# Redirects stay relative: behind an outer proxy nginx cannot know the public address.
absolute_redirect off;
if ($qgis_names_a_file) {{
    return 404;
}}

location ^~ {conf.location} {{
{cache}{indent(_fastcgi(conf, conf.default_project), 4)}
}}

{_ogc_location(conf, cache)}

# QGIS Server's landing page: the list of projects, as HTML and JSON.
location ~ ^/(index\\.(html|json))?$ {{
{indent(_fastcgi(conf, ""), 4)}
}}

{_project_id_location(conf, cache)}

location / {{
    return 404;
}}"""
    http = [_PUBLIC_ADDRESS] + ([] if conf.qgis_finds_projects else [_projects_http(conf)])
    if conf.resolver:
        http.append(f"resolver {conf.resolver} valid=10s ipv6=off;")
    if conf.cache:
        http.append(_cache_http(conf.cache))
    return nginx_main(conf.listen_port, locations, http_extra="\n\n".join(http))
