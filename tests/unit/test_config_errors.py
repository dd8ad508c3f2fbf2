"""A wrong config value stops the program with one line naming the key, before anything is declared."""
from __future__ import annotations

import pytest

from pulumi_geostack.config import ConfigError
from offline.program_run import run_program


def run_expecting_error(stack: str, overrides: dict[str, str], secrets: dict[str, str] | None = None) -> str:
    """Run the program with bad config; return the error text after checking nothing was declared."""
    run = run_program(stack, overrides, raise_errors=False, secrets=secrets)
    assert isinstance(run.error, ConfigError), f"expected a ConfigError, got {run.error!r}"
    assert run.resources == [], "resources were declared despite invalid config"
    return str(run.error)


@pytest.mark.parametrize("key, value, expected", [
    ("target", "kubernetes", "geostack:target must be one of docker, microk8s, eks, got 'kubernetes'"),
    ("qgisFcgiPort", "70000", "geostack:qgisFcgiPort must be an integer from 1 to 65535, got '70000'"),
    ("qgisFcgiPort", "0", "geostack:qgisFcgiPort must be an integer from 1 to 65535, got '0'"),
    ("qgisReplicas", "abc", "geostack:qgisReplicas must be an integer from 1 to 100, got 'abc'"),
    ("qgisProcesses", "-2", "geostack:qgisProcesses must be an integer from 0 to 64, got '-2'"),
    ("qgisParallelRendering", "yes", "geostack:qgisParallelRendering must be true or false, got 'yes'"),
    ("qgisImageTag", "latest", "geostack:qgisImageTag must be a Docker tag other than 'latest' (or empty), got 'latest'"),
    ("qgisImage", "localhost:32000/geostack/qgis-server:1.0",
     "geostack:qgisImage must be an image reference pinned by digest"),
    ("nginxImage", "nginx:latest", "geostack:nginxImage must be a pinned image reference"),
    ("nginxImage", "nginx", "geostack:nginxImage must be a pinned image reference"),
    ("nginxPath", "qgis", "geostack:nginxPath must be a URL path such as /qgis-server, got 'qgis'"),
    ("qgisMemoryLimit", "lots", "geostack:qgisMemoryLimit must be a memory quantity such as 512Mi or 2Gi"),
    ("kubernetesNamespace", "Geo_Stack", "geostack:kubernetesNamespace must be a DNS label"),
    # Docker publishes on every interface when it cannot parse the address.
    ("dockerBindAddress", "999.1.1.1", "geostack:dockerBindAddress must be an IPv4 or IPv6 address such as "
                                       "127.0.0.1, 0.0.0.0 or ::1, got '999.1.1.1'"),
    ("dockerBindAddress", "localhost", "geostack:dockerBindAddress must be an IPv4 or IPv6 address"),
    ("dockerBindAddress", "127.0.0.1:8080", "geostack:dockerBindAddress must be an IPv4 or IPv6 address"),
])
def test_bad_value_names_key_value_and_allowed(key, value, expected):
    message = run_expecting_error("dev", {f"geostack:{key}": value})
    assert expected in message
    assert "\n" not in message, "one mistake gives one line"


def test_missing_data_directory():
    message = run_expecting_error("dev", {"geostack:qgisProjectDir": "no/such/dir"})
    assert message == "geostack:qgisProjectDir must be an existing directory, got 'no/such/dir'"


def test_missing_project_file():
    message = run_expecting_error("dev", {"geostack:qgisProjectFile": "missing.qgs"})
    assert message.startswith("geostack:qgisProjectFile must name a file inside ")
    assert message.endswith("got 'missing.qgs'")


def test_unknown_key_suggests_the_right_one():
    message = run_expecting_error("dev", {"geostack:qgisReplica": "2"})
    assert message == "geostack:qgisReplica is not a geostack setting (did you mean geostack:qgisReplicas?)"


def test_a_dotted_key_from_the_old_layout_names_its_flat_replacement():
    message = run_expecting_error("dev", {"geostack:nginx.cacheSize": "1g"})
    assert message == "geostack:nginx.cacheSize is not a geostack setting (did you mean geostack:nginxCacheSize?)"


def test_an_object_made_with_path_says_keys_are_flat():
    # `pulumi config set --path geostack:docker.hostPort 9000` hands the program an object.
    message = run_expecting_error("dev", {"geostack:docker": '{"hostPort":9000}'})
    assert message == ("geostack:docker is not a geostack setting: keys are flat, so set them without --path, "
                       "for example `pulumi config set geostack:dockerHostPort <value>`")


def test_a_credential_set_without_secret_is_refused():
    message = run_expecting_error("staging", {"geostack:geonodeAdminPassword": "hunter2"})
    assert message == ("geostack:geonodeAdminPassword must be set with `pulumi config set --secret "
                       "geostack:geonodeAdminPassword` so it is stored encrypted, got a plaintext value")
    assert "hunter2" not in message


def test_eks_needs_a_cluster_name():
    message = run_expecting_error("prod", {"geostack:eksClusterName": ""})
    assert message == "geostack:eksClusterName must be set when geostack:target is eks, got ''"


def test_claim_is_refused_on_docker():
    message = run_expecting_error("dev", {"geostack:qgisDataClaim": "qgis-projects"})
    assert message.startswith("geostack:qgisDataClaim is for Kubernetes targets only")


def test_limit_below_request():
    message = run_expecting_error("staging", {"geostack:qgisCpuRequest": "2", "geostack:qgisCpuLimit": "500m"})
    assert message == "geostack:qgisCpuLimit must be at least geostack:qgisCpuRequest (2), got '500m'"


def test_a_folder_too_big_for_a_configmap_needs_the_qgis_image_in_the_registry_it_goes_to(tmp_path):
    (tmp_path / "big.qgs").write_bytes(b"x" * 1_100_000)
    prebuilt = "registry.example.org/geostack/qgis-server@sha256:" + "a" * 64
    message = run_expecting_error("staging", {
        "geostack:qgisProjectDir": str(tmp_path), "geostack:qgisProjectFile": "big.qgs", "geostack:qgisImage": prebuilt})
    assert message == ("geostack:qgisImage must be in geostack:microk8sRegistry (localhost:32000) when the project "
                       "folder is more than a ConfigMap carries (1000000 bytes): the folder is pushed there as layers "
                       f"on top of it, got {prebuilt!r}")


def test_every_mistake_is_reported_at_once():
    message = run_expecting_error("dev", {"geostack:qgisReplicas": "0", "geostack:nginxPort": "80"})
    assert message.splitlines() == [
        "geostack:qgisReplicas must be an integer from 1 to 100, got '0'",
        "geostack:nginxPort must be an integer from 1024 to 65535, got '80'",
    ]


def test_config_error_prints_without_traceback():
    # Pulumi prints a RunError's message alone, with no stack trace.
    import pulumi

    assert issubclass(ConfigError, pulumi.RunError)


def test_eks_needs_the_stacks_region():
    # Without one, the AWS provider and `aws eks get-token` would follow each machine's AWS_REGION.
    message = run_expecting_error("prod", {"aws:region": ""})
    assert message.startswith("geostack:eksRegion (or aws:region) must be set when geostack:target is eks")


def _folder(tmp_path, *files: str):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<qgis/>")
    return str(tmp_path)


@pytest.mark.parametrize("files, problem", [
    (("notes.txt",), "no QGIS project (.qgs or .qgz)"),
    (("a/roads.qgs", "b/roads.qgz"), "projects 'a/roads.qgs' and 'b/roads.qgz' would both be served at /ogc/roads"),
    (("my map.qgs",), "project 'my map.qgs' has a name that is not URL-safe"),
    (("-x.qgs",), "project '-x.qgs' has a name that is not URL-safe"),
])
def test_a_folder_whose_projects_cannot_each_get_an_address(tmp_path, files, problem):
    folder = _folder(tmp_path, *files)
    message = run_expecting_error("dev", {"geostack:qgisProjectDir": folder})
    assert message.startswith("geostack:qgisProjectDir must hold QGIS projects that can each be served at "
                              "/ogc/<name>, but it has " + problem)
    assert message.endswith(f"got {folder!r}")


def test_projects_in_fonts_and_plugins_are_not_served(tmp_path):
    folder = _folder(tmp_path, "plugins/demo/test.qgs", "fonts/readme.qgs")
    message = run_expecting_error("dev", {"geostack:qgisProjectDir": folder})
    assert "it has no QGIS project" in message


@pytest.mark.parametrize("path", ["/ogc", "/ogc/maps", "/project", "/index.html", "/healthz"])
def test_nginx_path_may_not_shadow_the_project_addresses(path):
    message = run_expecting_error("dev", {"geostack:nginxPath": path})
    assert message == (f"geostack:nginxPath must not begin with /ogc, /project, /index.html, /index.json, /healthz "
                       f"(the addresses of the projects and the landing page), got {path!r}")


def test_a_fonts_folder_holds_fonts_and_their_licences(tmp_path):
    folder = _folder(tmp_path, "sample.qgs")
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "Brand.ttf").write_bytes(b"\x00\x01\x00\x00" + bytes(60))
    (fonts / "Brand.otf").write_bytes(b"OTTO" + bytes(60))
    (fonts / "OFL.txt").write_text("SIL Open Font License")
    run = run_program("dev", {"geostack:qgisProjectDir": folder, "geostack:qgisProjectFile": "sample.qgs"})
    assert run.error is None
    (fonts / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(60))
    (fonts / "fake.ttf").write_text("not a font")
    message = run_expecting_error("dev", {"geostack:qgisProjectDir": folder, "geostack:qgisProjectFile": "sample.qgs"})
    assert message.splitlines() == [
        f"geostack:qgisProjectDir must hold only fonts (and their licences) in fonts/, but it has '{name}', "
        f"which is not a font, got {folder!r}" for name in ("fonts/fake.ttf", "fonts/logo.png")]


@pytest.mark.parametrize("project", ["maps/roads.txt", "roads"])
def test_the_project_on_a_claim_must_be_a_project(project):
    message = run_expecting_error("staging", {"geostack:qgisDataClaim": "qgis-projects",
                                              "geostack:qgisProjectFile": project})
    assert message == ("geostack:qgisProjectFile must name a .qgs or .qgz project on the claim (the one "
                       f"/qgis-server serves), got {project!r}")
