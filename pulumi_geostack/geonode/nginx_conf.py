"""GeoNode's nginx configuration, rendered by a pure function (no secrets ever enter it).

Routes as GeoNode's own nginx image does: /geoserver to GeoServer, /static/ and
/uploaded/ straight from the shared statics volume, everything else to Django. One
upload-size setting caps request bodies everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass

from pulumi_geostack.geonode.names import MEDIA_ROOT, STATIC_ROOT
from pulumi_geostack.nginx_conf import GZIP_TYPES, indent, nginx_main

# The UI's scripts, styles and API responses compress well; images do not.
GEONODE_GZIP_TYPES = GZIP_TYPES + ("text/css", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class GeoNodeNginxConf:
    listen_port: int
    django: str  # host:port
    geoserver: str  # host:port
    upload_size: str  # nginx notation, e.g. 100m
    # A DNS server to look Django and GeoServer up with on every request (valid 10 s) instead of
    # once at start; empty: once. Docker gives a restarted container a new address.
    resolver: str = ""


# $http_host, not $host: $host drops the port, and Django's CSRF check compares the
# browser's Origin (http://localhost:8000 on Docker) with the Host it receives.
_PROXY_HEADERS = """proxy_set_header Host $http_host;
proxy_set_header X-Forwarded-Host $http_host;
proxy_set_header X-Forwarded-Proto $forwarded_proto;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Real-IP $remote_addr;
proxy_http_version 1.1;
# Stream uploads to the backend instead of spooling them first.
proxy_request_buffering off;"""


def _proxy_pass(variable: str, address: str, resolver: str) -> str:
    # nginx resolves a name in proxy_pass once, unless the address comes from a variable.
    if not resolver:
        return f"proxy_pass http://{address};"
    return f"set ${variable} {address};\n    proxy_pass http://${variable};"


def render_geonode_nginx_conf(conf: GeoNodeNginxConf) -> str:
    resolver = f"\nresolver {conf.resolver} valid=10s ipv6=off;" if conf.resolver else ""
    http_extra = f"""# Static files need real types: browsers refuse scripts and styles sent as octet-stream.
include mime.types;

client_max_body_size {conf.upload_size};
client_body_timeout 600s;
proxy_connect_timeout 600s;
proxy_send_timeout 600s;
proxy_read_timeout 600s;
send_timeout 600s;

# Behind a TLS-terminating Ingress keep the original scheme, else use our own.
map $http_x_forwarded_proto $forwarded_proto {{
    default $http_x_forwarded_proto;
    "" $scheme;
}}{resolver}"""
    locations = f"""location /geoserver {{
{indent(_PROXY_HEADERS, 4)}
    {_proxy_pass("geoserver", conf.geoserver, conf.resolver)}
}}

location /static/ {{
    alias {STATIC_ROOT};
    expires 30d;
    access_log off;
}}

location /uploaded/ {{
    alias {MEDIA_ROOT};
    expires 1h;
}}

location / {{
{indent(_PROXY_HEADERS, 4)}
    {_proxy_pass("django", conf.django, conf.resolver)}
}}"""
    return nginx_main(conf.listen_port, locations, http_extra, source="pulumi_geostack/geonode/nginx_conf.py",
                      gzip_types=GEONODE_GZIP_TYPES)

