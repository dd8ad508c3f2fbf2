"""`nginx -t` accepts the config each stack renders (only the upstream swapped for a resolvable one)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from offline.loopback import FASTCGI_PARAMS, MIME_TYPES, replace_once, scratch_dir
from offline.program_run import STACKS, run_program


def nginx_test(conf_text: str) -> subprocess.CompletedProcess:
    with scratch_dir("geostack-nginx-t-") as scratch:
        (scratch / "nginx.conf").write_text(conf_text)
        shutil.copy(FASTCGI_PARAMS, scratch / "fastcgi_params")
        shutil.copy(MIME_TYPES, scratch / "mime.types")
        return subprocess.run(["nginx", "-t", "-c", str(scratch / "nginx.conf"), "-p", str(scratch),
                               "-e", "stderr"], capture_output=True, text=True)


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_config_passes_nginx_t(stack):
    # Only the upstream swapped, where nginx would resolve it at start (dev resolves it per request).
    conf = run_program(stack).nginx_config("qgis-nginx").replace("fastcgi_pass qgis-server:5555;",
                                                                 "fastcgi_pass 127.0.0.1:5555;")
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_geonode_config_passes_nginx_t(stack):
    run = run_program(stack, {"geostack:geonodeEnabled": "true", "geostack:eksSharedStorageClass": "efs"})
    conf = run.nginx_config("geonode")
    for upstream in ("geonode-django:8000", "geonode-geoserver:8080"):
        if stack == "dev":  # looked up per request through a variable: nginx -t resolves nothing
            assert f" {upstream};" in conf and "resolver 127.0.0.11" in conf
        else:  # names nginx -t would try to resolve at load
            conf = replace_once(conf, f"proxy_pass http://{upstream};", "proxy_pass http://127.0.0.1:9;")
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr


def test_nginx_t_rejects_a_broken_config():
    result = nginx_test("events {}\nhttp { server { listen 8080; location / { fastcgi_pass; } } }\n")
    assert result.returncode != 0


@pytest.mark.parametrize("resolver", ["", "127.0.0.11"], ids=["upstream-blocks", "resolver"])
def test_a_config_routing_to_two_qgis_servers_passes_nginx_t(resolver):
    """NginxProxy's more_servers (examples/two-folders): each project's server from a map, through
    upstream blocks (Kubernetes) or a name looked up per request (Docker)."""
    from pulumi_geostack.nginx_conf import NginxConf, ProjectRoute, render_nginx_conf

    upstream = "qgis-parks:5556" if resolver else "127.0.0.1:5556"
    conf = render_nginx_conf(NginxConf(
        listen_port=8080, location="/qgis-server", upstream_host="127.0.0.1", upstream_port=5555,
        default_project="/data/planning.qgs", resolver=resolver,
        projects=(ProjectRoute("planning", "/data/planning.qgs", "0" * 32),
                  ProjectRoute("parks", "/data/parks.qgs", "1" * 32, upstream=upstream))))
    assert "fastcgi_pass $qgis_project_server;" in conf
    blocks = re.findall(r"upstream (\w+) \{\s*server ([^;]+);", conf)
    assert blocks == ([] if resolver else [("qgis_server_0", "127.0.0.1:5555"), ("qgis_server_1", upstream)])
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr
