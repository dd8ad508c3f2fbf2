"""`pulumi new` from the template (templates/geostack), by the real CLI from the local path,
non-interactively, with the components installed from the wheel this repository builds: the new
project's config resolves, and its program previews against the test cluster under the real
engine and kubernetes provider (the QGIS image given prebuilt: the docker provider cannot be built
here, toolchain/README.md)."""
from __future__ import annotations

import json
import re
import subprocess

import yaml

import pulumi_geostack
from offline.program_run import PROJECT_ROOT
from tests.engine.workspace import Workspace
from tests.package.wheel import build_wheel

TEMPLATE = PROJECT_ROOT / "templates" / "geostack"


def test_pulumi_new_makes_a_project_that_previews_on_the_cluster(cluster, images, tmp_path):
    wheel = build_wheel(tmp_path / "package")
    (tmp_path / "workspace").mkdir()
    workspace = Workspace(tmp_path / "workspace", copy_project=False)
    # Where the user's pip finds the package: here the wheel just built (PyPI has none).
    workspace.env["PIP_FIND_LINKS"] = str(wheel.parent)
    made = workspace.run("new", str(TEMPLATE), "--name", "my-maps", "--description", "Our maps", "--stack", "maps",
                         "--yes", "--config", "geostack:target=microk8s",
                         "--config", f"geostack:microk8sKubeconfig={cluster.kubeconfig}",
                         "--config", "geostack:microk8sContext=geostack-test",
                         "--config", f"geostack:qgisImage={images.qgis}",
                         "--config", "geostack:microk8sNodePort=30090", timeout=900)
    # Its last step installs the plugin of every provider SDK the program imports; those of aws,
    # docker and random cannot be had here (no get.pulumi.com, no build from the Go module proxy).
    # Anything else failing, or a plugin asked for geostack itself (pulumi-plugin.json says there
    # is none), fails the test.
    unobtainable = re.search(r"installing packages: failed to download plugin: (aws|docker|random)-[0-9.]+: ",
                             made.output)
    assert made.returncode == 0 or unobtainable, made.output
    assert "pulumi-resource-geostack" not in made.output

    project = yaml.safe_load((workspace.project / "Pulumi.yaml").read_text())
    assert (project["name"], project["description"]) == ("my-maps", "Our maps")
    assert "template" not in project
    assert (workspace.project / "data" / "sample.qgs").is_file()
    # The prompts' defaults where no --config was given; the eks-only keys, left empty, are not set.
    resolved = {key: entry["value"] for key, entry in workspace.config("maps").items() if key.startswith("geostack:")}
    assert resolved == {"geostack:target": "microk8s", "geostack:qgisProjectDir": "data",
                        "geostack:microk8sKubeconfig": str(cluster.kubeconfig),
                        "geostack:microk8sContext": "geostack-test", "geostack:qgisImage": images.qgis,
                        "geostack:microk8sNodePort": "30090"}
    # `pulumi new` made the project's virtualenv and installed the package into it.
    installed = json.loads(subprocess.run(
        [str(workspace.project / "venv" / "bin" / "python"), "-c",
         "import json, pulumi_geostack as p; print(json.dumps([p.__file__, p.__version__]))"],
        cwd=workspace.project, capture_output=True, text=True, timeout=60, check=True).stdout)
    assert installed[0].startswith(str(workspace.project / "venv")) and installed[1] == pulumi_geostack.__version__

    preview = workspace.json("preview", "--stack", "maps", timeout=600)
    creates = {(step["newState"]["type"], step["urn"].rsplit("::", 1)[-1])
               for step in preview["steps"] if step["op"] == "create"}
    assert {("kubernetes:core/v1:Namespace", "microk8s-target-namespace"),
            ("kubernetes:apps/v1:Deployment", "qgis-server-deployment"),
            ("kubernetes:apps/v1:Deployment", "qgis-nginx-deployment")} <= creates, sorted(creates)
    (namespace,) = [step["newState"]["inputs"] for step in preview["steps"]
                    if step["newState"]["type"] == "kubernetes:core/v1:Namespace"]
    assert namespace["metadata"]["name"] == "geostack-maps"  # geostack-<stack name>, the new stack's own
    assert not [step for step in preview["steps"] if step["op"] not in ("create", "same")]
    assert preview["changeSummary"]["create"] == len(creates)

