"""NginxProxy in front of several QGIS servers (NginxProxyArgs.more_servers): what it refuses,
and the routes it renders. examples/two-folders uses it; tests/package and tests/kubernetes run it."""
from __future__ import annotations

import re

import pytest

from pulumi_geostack.nginx_conf import NginxConf, ProjectRoute, render_nginx_conf
from pulumi_geostack.nginx_proxy import QgisBackend, check_backends, project_routes
from pulumi_geostack.qgis_projects import QgisProject, QgisProjects
from pulumi_geostack.workload import DeployedWorkload


def backend(*names: str, claim: str = "", in_database: bool = False, port: int = 5555) -> QgisBackend:
    projects = tuple(QgisProject(name, f"{name}.qgs") for name in names)
    return QgisBackend(DeployedWorkload(host=None, port=port),
                       QgisProjects(all=projects, default=projects[0], mount="/data", data_version="v",
                                    claim=claim, in_database=in_database))


def test_a_name_two_servers_share_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"share project names \['roads'\]: /ogc/<name> must name one project"):
        check_backends([backend("roads", "parks"), backend("roads")])


@pytest.mark.parametrize("found_by_qgis", [{"claim": "maps"}, {"in_database": True}], ids=["claim", "database"])
def test_only_the_first_server_may_find_projects_by_name(found_by_qgis):
    check_backends([backend("roads", **found_by_qgis), backend("parks")])
    with pytest.raises(ValueError, match="cannot be routed to by name; only `upstream` may"):
        check_backends([backend("roads"), backend("parks", **found_by_qgis)])


def test_each_project_goes_to_its_servers_address_and_the_first_servers_to_the_default():
    routes = project_routes([backend("roads"), backend("parks", "trees", port=5556)], ["qgis-a", "qgis-b"])
    assert [(r.name, r.path, r.upstream) for r in routes] == [
        ("roads", "/data/roads.qgs", ""), ("parks", "/data/parks.qgs", "qgis-b:5556"),
        ("trees", "/data/trees.qgs", "qgis-b:5556")]
    conf = render_nginx_conf(NginxConf(listen_port=8080, location="/qgis-server", upstream_host="qgis-a",
                                       upstream_port=5555, default_project="/data/roads.qgs", projects=routes))
    server_map = re.search(r"map \$qgis_project_name \$qgis_project_server \{(.*?)\}", conf, re.S).group(1)
    assert re.findall(r"(\S+) (\S+);", server_map) == [
        ("default", "qgis_server_0"), ("parks", "qgis_server_1"), ("trees", "qgis_server_1")]
    # The default path and the landing page stay on the first server (/project/<id> redirects to /ogc/).
    assert conf.count("fastcgi_pass qgis-a:5555;") == 2 and conf.count("fastcgi_pass $qgis_project_server;") == 1


def test_one_server_renders_as_before():
    routes = project_routes([backend("roads", "parks")], ["qgis-a"])
    conf = render_nginx_conf(NginxConf(listen_port=8080, location="/qgis-server", upstream_host="qgis-a",
                                       upstream_port=5555, default_project="/data/roads.qgs", projects=routes))
    assert "qgis_project_server" not in conf and "upstream " not in conf


def test_a_conf_that_finds_projects_by_name_cannot_route_to_another_server():
    with pytest.raises(ValueError, match="are all on the conf's own upstream"):
        render_nginx_conf(NginxConf(listen_port=8080, location="/qgis-server", upstream_host="qgis-a",
                                    upstream_port=5555, default_project="/data/roads.qgs", qgis_finds_projects=True,
                                    projects=(ProjectRoute("parks", "/data/parks.qgs", "1" * 32, "qgis-b:5555"),)))
