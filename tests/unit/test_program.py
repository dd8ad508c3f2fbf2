"""The whole program, run for each committed stack file under mocks: what each target declares."""
from __future__ import annotations

import json
import re

import pytest

from offline.program_run import ProgramRun, run_program

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/image:Image"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
COMPONENT_TYPES = {
    "geostack:qgis:QgisServerImage",
    "geostack:qgis:QgisFcgiServer",
    "geostack:proxy:NginxProxy",
    "geostack:targets:DockerTarget",
    "geostack:targets:Microk8sTarget",
    "geostack:targets:EksTarget",
    "geostack:geonode:GeoNode",
}


def env_of_container(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}


def pod_container(run: ProgramRun, name: str) -> dict:
    deployment = run.one(DEPLOYMENT, f"{name}-deployment")
    return deployment.inputs["spec"]["template"]["spec"]["containers"][0]


def fastcgi_pass(config: str) -> str:
    """The one upstream every location passes to (through a variable where nginx looks it up per request)."""
    passes = set(re.findall(r"fastcgi_pass\s+([^;]+);", config))
    assert len(passes) == 1, f"expected one upstream, got {passes}"
    upstream = passes.pop()
    if upstream.startswith("$"):
        values = set(re.findall(rf"set \{upstream}\s+([^;]+);", config))
        assert len(values) == 1, f"expected one value of {upstream}, got {values}"
        upstream = values.pop()
    return upstream


def project_params(config: str) -> list[str]:
    return re.findall(r"fastcgi_param QGIS_PROJECT_FILE ([^;]+);", config)


def test_types_per_target(stack_runs):
    kinds = {stack: {r.type for r in run.resources} for stack, run in stack_runs.items()}
    assert {CONTAINER, IMAGE, "docker:index/network:Network"} <= kinds["dev"]
    assert not any(t.startswith("kubernetes:") or t.startswith("aws:") for t in kinds["dev"])
    for stack in ("staging", "prod"):
        assert {DEPLOYMENT, SERVICE, CONFIGMAP, "kubernetes:core/v1:Namespace", IMAGE} <= kinds[stack]
        assert CONTAINER not in kinds[stack]
    assert not any(t.startswith("aws:") for t in kinds["staging"])
    assert {"aws:ecr/repository:Repository", "aws:ecr/lifecyclePolicy:LifecyclePolicy"} <= kinds["prod"]


def test_every_resource_sits_under_a_component(stack_runs):
    for stack, run in stack_runs.items():
        for resource in run.resources:
            if resource.type in COMPONENT_TYPES:
                continue
            parent_type = resource.parent.split("::")[2].split("$")[-1] if resource.parent else ""
            assert parent_type in COMPONENT_TYPES, f"{stack}: {resource.type} {resource.name} has parent {parent_type!r}"


def test_dev_builds_locally_and_runs_the_local_tag(stack_runs):
    run = stack_runs["dev"]
    image = run.one(IMAGE)
    assert image.inputs["skipPush"] is True
    assert image.inputs["build"]["context"] == "docker/qgis-server"
    assert image.inputs["build"]["dockerfile"] == "docker/qgis-server/Dockerfile"
    assert re.fullmatch(r"geostack/qgis-server:[0-9a-f]{12}", image.inputs["imageName"])
    qgis = run.one(CONTAINER, "qgis-server")
    assert qgis.inputs["image"] == image.inputs["imageName"]
    assert run.outputs["imageRef"] == image.inputs["imageName"]


def test_staging_pushes_to_the_microk8s_registry_and_runs_the_digest(stack_runs):
    run = stack_runs["staging"]
    image = run.one(IMAGE, "qgis-image-build")
    assert image.inputs["imageName"].startswith("localhost:32000/geostack/qgis-server:")
    assert image.inputs["registry"]["server"] == "localhost:32000"
    assert image.inputs.get("skipPush") is not True
    container = pod_container(run, "qgis-server")
    assert re.fullmatch(r"localhost:32000/geostack/qgis-server@sha256:[0-9a-f]{64}", container["image"])
    assert run.outputs["imageRef"] == container["image"]


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_a_prebuilt_image_is_run_as_given_and_nothing_is_built(stack):
    prebuilt = "registry.example.org/gis/qgis-server@sha256:" + "ab" * 32
    run = run_program(stack, {"geostack:qgisImage": prebuilt, "geostack:geonodeDjangoImage": "geonode/geonode:5.1.1",
                              "geostack:geonodeBackupImage": "registry.example.org/gis/backup@sha256:" + "ef" * 32,
                              "geostack:geonodeDatabaseMaxConnections": "600"})
    assert not any(r.type.startswith("docker:index/image") or r.type.startswith("docker:index/registryImage")
                   for r in run.resources), "a prebuilt image must not be built or pushed"
    image = (run.one(CONTAINER, "qgis-server").inputs["image"] if stack == "dev"
             else pod_container(run, "qgis-server")["image"])
    assert image == prebuilt == run.outputs["imageRef"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_stopping_qgis_pods_wait_for_the_endpoints_to_drop_them(stack_runs, stack):
    deployment = stack_runs[stack].one(DEPLOYMENT, "qgis-server-deployment")
    pod = deployment.inputs["spec"]["template"]["spec"]
    assert pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    assert pod["terminationGracePeriodSeconds"] == 35


ROLLOUT_COMPLETE = 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}=NewReplicaSetAvailable'


def rollout_waits(deployment) -> list[str]:
    return json.loads(deployment.inputs["metadata"]["annotations"]["pulumi.com/waitFor"])


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_up_waits_for_every_deployments_rollout_of_the_current_generation(stack_runs, stack):
    """pulumi.com/waitFor replaces the provider's Deployment await, which can take a status from
    before the update for a finished rollout; its conditions wait for the current generation."""
    deployments = stack_runs[stack].of_type(DEPLOYMENT)
    assert deployments
    for deployment in deployments:
        replicas = int(deployment.inputs["spec"]["replicas"])  # the mocks hand numbers back as floats
        assert rollout_waits(deployment) == [ROLLOUT_COMPLETE, f"jsonpath={{.status.replicas}}={replicas}",
                                             f"jsonpath={{.status.updatedReplicas}}={replicas}",
                                             f"jsonpath={{.status.availableReplicas}}={replicas}"], deployment.name


def test_with_an_autoscaler_up_waits_for_the_rollout_and_a_pod_of_the_new_template_not_a_count():
    run = run_program("staging", {"geostack:qgisAutoscaleMin": "2", "geostack:qgisAutoscaleMax": "4"})
    assert rollout_waits(run.one(DEPLOYMENT, "qgis-server-deployment")) == [
        ROLLOUT_COMPLETE, "jsonpath={.status.updatedReplicas}"]


def test_prod_pushes_to_ecr_with_scanning_lifecycle_and_a_token(stack_runs):
    run = stack_runs["prod"]
    repository = run.one("aws:ecr/repository:Repository", "qgis-image-build-repository")
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository.protect is True and repository.retain_on_delete is True, "destroy keeps the images"
    assert not repository.inputs.get("forceDelete")
    policy = run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "qgis-image-build-lifecycle")
    assert '"countNumber": 10' in policy.inputs["policy"]
    image = run.one(IMAGE, "qgis-image-build")
    assert image.inputs["imageName"].startswith("123456789012.dkr.ecr.eu-west-1.amazonaws.com/geostack/qgis-server:")
    assert image.inputs["registry"]["username"] == "AWS"
    assert "registry" in image.secret_inputs, "the ECR token must travel as a secret"
    container = pod_container(run, "qgis-server")
    assert container["image"].startswith("123456789012.dkr.ecr.eu-west-1.amazonaws.com/geostack/qgis-server@sha256:")


def test_no_image_is_latest_or_untagged(stack_runs):
    for stack, run in stack_runs.items():
        images = [r.inputs["image"] for r in run.of_type(CONTAINER)]
        images += [c["image"] for r in run.of_type(DEPLOYMENT) for c in r.inputs["spec"]["template"]["spec"]["containers"]]
        assert images, stack
        for image in images:
            last = image.rsplit("/", 1)[-1]
            assert "@sha256:" in image or (":" in last and not last.endswith(":latest")), f"{stack}: {image}"


def test_docker_fastcgi_pass_names_the_qgis_alias_and_port(stack_runs):
    run = stack_runs["dev"]
    qgis = run.one(CONTAINER, "qgis-server")
    nginx = run.one(CONTAINER, "qgis-nginx")
    alias = qgis.inputs["networksAdvanced"][0]["aliases"][0]
    port = env_of_container({"env": [dict(zip(("name", "value"), e.split("=", 1))) for e in qgis.inputs["envs"]]})["QGIS_FCGI_PORT"]
    config = nginx.inputs["uploads"][0]["content"]
    assert nginx.inputs["uploads"][0]["file"] == "/etc/nginx/nginx.conf"
    assert fastcgi_pass(config) == f"{alias}:{port}" == "qgis-server:5555"
    assert nginx.inputs["networksAdvanced"][0]["name"] == qgis.inputs["networksAdvanced"][0]["name"]
    assert nginx.inputs["ports"] == [{"internal": 8080, "external": 8080, "ip": "127.0.0.1"}]
    assert qgis.inputs["restart"] == "unless-stopped"
    assert "ports" not in qgis.inputs or qgis.inputs["ports"] == [], "FastCGI is not published on the host"


def test_docker_project_data_is_a_read_only_bind_mount(stack_runs):
    from offline.program_run import PROJECT_ROOT

    qgis = stack_runs["dev"].one(CONTAINER, "qgis-server")
    assert qgis.inputs["volumes"] == [{"hostPath": str(PROJECT_ROOT / "data"), "containerPath": "/data", "readOnly": True}]
    env = dict(e.split("=", 1) for e in qgis.inputs["envs"])
    # nginx names the project per request; in the environment it would pin every request to one.
    assert "QGIS_PROJECT_FILE" not in env
    assert env["QGIS_HEALTHCHECK_PROJECT"] == "/data/sample.qgs"
    assert env["QGIS_SERVER_LANDING_PAGE_PROJECTS_DIRECTORIES"] == "/data"
    config = stack_runs["dev"].nginx_config("qgis-nginx")
    assert project_params(config) == ["/data/sample.qgs", "$qgis_project_file"]
    assert '    sample "/data/sample.qgs";' in config


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_kubernetes_fastcgi_pass_names_the_qgis_service_and_port(stack_runs, stack):
    run = stack_runs[stack]
    service = run.one(SERVICE, "qgis-server-service")
    assert service.inputs["spec"]["type"] == "ClusterIP"
    config = run.nginx_config("qgis-nginx")
    port = int(service.inputs["spec"]["ports"][0]["port"])
    assert fastcgi_pass(config) == f"{service.inputs['metadata']['name']}:{port}" == "qgis-server:5555"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_kubernetes_qgis_probes_and_resources(stack_runs, stack):
    container = pod_container(stack_runs[stack], "qgis-server")
    assert container["livenessProbe"]["tcpSocket"] == {"port": 5555}
    assert container["readinessProbe"]["exec"]["command"] == ["/usr/local/bin/qgis-healthcheck"]
    # Two workers (one per CPU of the 2-CPU limit) at 320Mi each; the limit leaves room for peaks.
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "640Mi"},
                                      "limits": {"cpu": "2", "memory": "1280Mi"}}
    assert container["ports"] == [{"name": "fcgi", "containerPort": 5555}]


def test_qgis_env_carries_the_tuning_knobs():
    run = run_program("staging", {
        "geostack:qgisProcesses": "3", "geostack:qgisParallelRendering": "true",
        "geostack:qgisMaxThreads": "4", "geostack:qgisMaxCacheLayers": "250",
        "geostack:qgisIgnoreBadLayers": "false", "geostack:qgisTrustLayerMetadata": "false",
        "geostack:qgisLogLevel": "0", "geostack:qgisFcgiPort": "6000",
    })
    env = env_of_container(pod_container(run, "qgis-server"))
    assert env == {
        "QGIS_HEALTHCHECK_PROJECT": "/data/sample.qgs",
        "QGIS_SERVER_LANDING_PAGE_PROJECTS_DIRECTORIES": "/data",
        "QGIS_PLUGINPATH": "/data/plugins",
        "QGIS_FCGI_PORT": "6000",
        "QGIS_FCGI_PROCESSES": "3",
        "QGIS_SERVER_LOG_STDERR": "1",
        "QGIS_SERVER_LOG_LEVEL": "0",
        "QGIS_SERVER_PARALLEL_RENDERING": "true",
        "QGIS_SERVER_MAX_THREADS": "4",
        "MAX_CACHE_LAYERS": "250",
        "QGIS_SERVER_IGNORE_BAD_LAYERS": "false",
        "QGIS_SERVER_TRUST_LAYER_METADATA": "false",
        "QGIS_SERVER_PROJECT_CACHE_STRATEGY": "filesystem",
    }
    config = run.nginx_config("qgis-nginx")
    assert fastcgi_pass(config) == "qgis-server:6000"


def test_kubernetes_project_data_from_a_configmap_of_the_data_directory(stack_runs):
    run = stack_runs["staging"]
    data = run.one(CONFIGMAP, "qgis-server-data-0")
    assert set(data.inputs["data"]) == {"sample.qgs", "parks.geojson", "sites.geojson"}
    pod = run.one(DEPLOYMENT, "qgis-server-deployment").inputs["spec"]["template"]
    volume = next(v for v in pod["spec"]["volumes"] if "configMap" in v)
    assert volume["configMap"]["name"] == "qgis-server-data-0"
    mount = next(m for m in pod["spec"]["containers"][0]["volumeMounts"] if m["name"] == volume["name"])
    assert mount == {"name": volume["name"], "mountPath": "/data", "readOnly": True}
    assert "geostack/data-0-checksum" in pod["metadata"]["annotations"]


def test_kubernetes_project_data_from_an_existing_claim():
    run = run_program("staging", {"geostack:qgisDataClaim": "qgis-projects", "geostack:qgisProjectFile": "city/city.qgz"})
    assert not [r for r in run.of_type(CONFIGMAP) if r.name.startswith("qgis-server-data")]
    container = pod_container(run, "qgis-server")
    pod = run.one(DEPLOYMENT, "qgis-server-deployment").inputs["spec"]["template"]["spec"]
    assert {"name": "data-0", "persistentVolumeClaim": {"claimName": "qgis-projects", "readOnly": True}} in pod["volumes"]
    assert env_of_container(container)["QGIS_HEALTHCHECK_PROJECT"] == "/data/city/city.qgz"
    # The image's plugin finds the claim's projects, and gives the landing page their folders.
    env = env_of_container(container)
    assert env["GEOSTACK_PROJECTS_ROOT"] == "/data"
    assert env["QGIS_PLUGINPATH"] == "/usr/share/geostack/server-plugins:/data/plugins"
    assert "QGIS_SERVER_LANDING_PAGE_PROJECTS_DIRECTORIES" not in env
    # nginx passes the name on and needs no file of the claim: it does not mount it (a
    # ReadWriteOnce claim could not be mounted by nginx on another node anyway).
    nginx_pod = run.one(DEPLOYMENT, "qgis-nginx-deployment").inputs["spec"]["template"]["spec"]
    assert not [v for v in nginx_pod["volumes"] if "persistentVolumeClaim" in v]
    config = run.nginx_config("qgis-nginx")
    assert project_params(config) == ["/data/city/city.qgz"]
    assert "fastcgi_param GEOSTACK_PROJECT_NAME $qgis_project_name;" in config
    assert run.outputs["projectUrls"] == {}, "the program cannot know the claim's projects"


def test_exposure_per_target(stack_runs):
    staging = stack_runs["staging"].one(SERVICE, "qgis-nginx-service").inputs["spec"]
    assert staging["type"] == "NodePort"
    assert staging["ports"] == [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}]
    prod = stack_runs["prod"].one(SERVICE, "qgis-nginx-service").inputs["spec"]
    assert prod["type"] == "LoadBalancer"
    assert prod["ports"] == [{"name": "http", "port": 80, "targetPort": 8080}]


def test_nginx_pods_roll_when_the_config_changes():
    def checksum(path: str) -> str:
        run = run_program("staging", {"geostack:nginxPath": path})
        template = run.one(DEPLOYMENT, "qgis-nginx-deployment").inputs["spec"]["template"]
        return template["metadata"]["annotations"]["geostack/files-checksum"]

    assert checksum("/qgis-server") != checksum("/ows")


def test_nginx_config_is_mounted_over_the_image_default(stack_runs):
    container = pod_container(stack_runs["staging"], "qgis-nginx")
    assert {"name": "files", "mountPath": "/etc/nginx/nginx.conf", "subPath": "nginx.conf",
            "readOnly": True} in container["volumeMounts"]
    assert container["args"][:3] == ["nginx", "-c", "/etc/nginx/nginx.conf"]
    assert "command" not in container, "the image keeps its ENTRYPOINT, as on Docker"


def test_stack_outputs(stack_runs):
    expected = {
        "dev": ("docker", "http://localhost:8080/qgis-server?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"),
        "staging": ("microk8s", "http://localhost:30080/qgis-server?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"),
        "prod": ("eks", "http://qgis-0123.elb.eu-west-1.amazonaws.com/qgis-server?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"),
    }
    for stack, (target, url) in expected.items():
        outputs = stack_runs[stack].outputs
        assert outputs["target"] == target
        assert outputs["wmsCapabilitiesUrl"] == url
        assert outputs["projectUrls"] == {"sample": url.split("/qgis-server")[0] + "/ogc/sample"}
        assert outputs["imageRef"]


def test_eks_provider_uses_the_named_cluster_with_exec_tokens(stack_runs):
    import json

    provider = stack_runs["prod"].one("pulumi:providers:kubernetes")
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://ABC123.gr7.eu-west-1.eks.amazonaws.com"
    user = kubeconfig["users"][0]["user"]
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"][:4] == ["eks", "get-token", "--cluster-name", "geostack-prod"]


def test_microk8s_provider_uses_the_configured_context(stack_runs):
    provider = stack_runs["staging"].one("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "microk8s"
    for resource in stack_runs["staging"].resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider.startswith(provider.urn), f"{resource.name} uses another provider"


def test_namespace_comes_from_config():
    run = run_program("staging", {"geostack:kubernetesNamespace": "maps"})
    assert run.one("kubernetes:core/v1:Namespace").inputs["metadata"]["name"] == "maps"
    for resource in run.of_type(DEPLOYMENT) + run.of_type(SERVICE) + run.of_type(CONFIGMAP):
        assert resource.inputs["metadata"]["namespace"] == "maps"


@pytest.mark.parametrize("stack, namespace", [("staging", "geostack-staging"), ("prod", "geostack-prod")])
def test_each_stack_gets_its_own_namespace_labelled_with_its_owner(stack_runs, stack, namespace):
    metadata = stack_runs[stack].one("kubernetes:core/v1:Namespace").inputs["metadata"]
    assert metadata["name"] == namespace
    assert metadata["labels"]["geostack.io/stack"] == f"geostack.{stack}"


def test_a_namespace_without_data_goes_with_destroy():
    run = run_program("staging", {"geostack:geonodeEnabled": "false"})  # QGIS only: no claims to keep
    namespace = run.one("kubernetes:core/v1:Namespace")
    assert not run.of_type("kubernetes:core/v1:PersistentVolumeClaim")
    assert not namespace.retain_on_delete and not namespace.protect


def test_a_stack_name_with_underscores_and_dots_still_makes_a_namespace():
    run = run_program("team_a.eu", config={"geostack:target": "microk8s"})
    assert run.one("kubernetes:core/v1:Namespace").inputs["metadata"]["name"] == "geostack-team-a-eu"


def test_a_stack_name_too_long_for_a_namespace_asks_for_the_key():
    run = run_program("s" * 60, config={"geostack:target": "microk8s"}, raise_errors=False)
    assert "geostack:kubernetesNamespace must be set for this stack" in str(run.error)
    assert run.resources == []


def test_docker_root_filesystem_is_read_only_unless_files_are_uploaded(stack_runs):
    run = stack_runs["dev"]
    assert run.one(CONTAINER, "qgis-server").inputs["readOnly"] is True
    nginx = run.one(CONTAINER, "qgis-nginx").inputs
    assert nginx["uploads"] and nginx["readOnly"] is False
    for name in ("qgis-server", "qgis-nginx"):
        inputs = run.one(CONTAINER, name).inputs
        assert inputs["capabilities"] == {"drops": ["ALL"]}
        assert inputs["securityOpts"] == ["no-new-privileges:true"]
        assert "/tmp" in inputs["tmpfs"]


@pytest.mark.parametrize("cache, size", [("true", 512 + 256), ("false", 256)])
def test_the_proxys_tmp_holds_the_whole_map_cache(cache, size):
    # The cache lives in /tmp (max_size nginxCacheSize, 512m by default): a smaller tmpfs would fail
    # cache writes on Docker, and a smaller emptyDir limit would get the pod evicted on Kubernetes.
    overrides = {"geostack:nginxCache": cache}
    assert f"size={size}m" in run_program("dev", overrides).one(CONTAINER, "qgis-nginx").inputs["tmpfs"]["/tmp"]
    pod = run_program("staging", overrides).one(DEPLOYMENT, "qgis-nginx-deployment").inputs["spec"]["template"]["spec"]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == "/tmp")
    assert next(v for v in pod["volumes"] if v["name"] == mount["name"])["emptyDir"] == {"sizeLimit": f"{size}Mi"}


@pytest.mark.parametrize("overrides, request_, limit", [
    ({"geostack:qgisProcesses": "4"}, "1280Mi", "2560Mi"),  # 4 x the 320Mi default per process
    ({"geostack:qgisCpuLimit": "3"}, "960Mi", "1920Mi"),
    ({"geostack:qgisMemoryPerProcess": "400Mi"}, "800Mi", "1600Mi"),
    ({"geostack:qgisMemoryRequest": "600Mi", "geostack:qgisMemoryLimit": "3Gi"}, "600Mi", "3Gi"),
])
def test_qgis_memory_is_sized_per_worker(overrides, request_, limit):
    container = pod_container(run_program("staging", overrides), "qgis-server")
    assert container["resources"]["requests"]["memory"] == request_
    assert container["resources"]["limits"]["memory"] == limit


def test_cache_switch_and_settings_reach_the_rendered_config():
    def nginx_conf(overrides):
        return run_program("staging", overrides).nginx_config("qgis-nginx")

    default = nginx_conf({})
    assert "max_size=512m" in default and "fastcgi_cache_valid 200 10m;" in default
    assert default.count("fastcgi_cache_min_uses 1;") == 2, "both QGIS locations"
    tuned = nginx_conf({"geostack:nginxCacheSize": "2g", "geostack:nginxCacheValidity": "1h",
                        "geostack:nginxCacheMinUses": "2"})
    assert "max_size=2g" in tuned and "fastcgi_cache_valid 200 1h;" in tuned
    assert tuned.count("fastcgi_cache_min_uses 2;") == 2
    assert "fastcgi_cache" not in nginx_conf({"geostack:nginxCache": "false"})


@pytest.mark.parametrize("overrides, region", [({}, "eu-west-1"), ({"geostack:eksRegion": "us-east-2"}, "us-east-2")])
def test_eks_uses_the_stacks_region_for_the_provider_and_get_token(overrides, region):
    run = run_program("prod", overrides)
    aws_provider = next(r for r in run.resources if r.type == "pulumi:providers:aws")
    assert aws_provider.inputs["region"] == region
    k8s_provider = next(r for r in run.resources if r.type == "pulumi:providers:kubernetes")
    args = json.loads(k8s_provider.inputs["kubeconfig"])["users"][0]["user"]["exec"]["args"]
    assert args[args.index("--region") + 1] == region


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_cluster_images_are_built_for_the_nodes_platform(stack):
    # An arm64 laptop would otherwise push arm64 images to amd64 nodes.
    for overrides, platform in (({}, "linux/amd64"),
                                ({"geostack:kubernetesImagePlatform": "linux/arm64"}, "linux/arm64")):
        builds = [r for r in run_program(stack, overrides).resources if r.type == "docker:index/image:Image"]
        assert builds and {b.inputs["build"]["platform"] for b in builds} == {platform}


def test_docker_builds_name_their_platform():
    """The provider warns and lets the engine pick when a build names no platform; every Docker build
    names one: the machine's by default (what its engine runs), or the configured one."""
    from unittest import mock

    with mock.patch("platform.machine", return_value="aarch64"):
        detected = run_program("dev", {"geostack:geonodeEnabled": "true"})
    configured = run_program("dev", {"geostack:geonodeEnabled": "true", "geostack:dockerImagePlatform": "linux/amd64"})
    for run, platform in ((detected, "linux/arm64"), (configured, "linux/amd64")):
        builds = [r for r in run.resources if r.type == IMAGE]
        assert len(builds) == 3, "the QGIS, GeoNode and backup images"
        assert {b.inputs["build"]["platform"] for b in builds} == {platform}


def test_docker_on_an_unknown_machine_asks_for_the_platform():
    from unittest import mock

    from pulumi_geostack.config import ConfigError

    with mock.patch("platform.machine", return_value="riscv64"):
        run = run_program("dev", raise_errors=False)
    assert isinstance(run.error, ConfigError)
    assert str(run.error) == ("geostack:dockerImagePlatform must be set (linux/amd64 or linux/arm64) on this "
                              "'riscv64' machine, got ''")


@pytest.mark.parametrize("stack, proxy_type", [("dev", CONTAINER), ("staging", DEPLOYMENT)])
def test_a_qgis_only_change_leaves_the_proxy_and_its_cache_alone(stack, proxy_type):
    """Changing QGIS alone (here its worker count) must not touch nginx, whose cache would go with it.
    Two ways it could: a different input, or an input computed from a QGIS resource, which the
    engine replaces along with a QGIS container replaced delete-before-replace (Docker's fixed names)."""
    before = run_program(stack)
    after = run_program(stack, {"geostack:qgisProcesses": "3"})
    qgis = {r.urn for r in after.resources if "QgisFcgiServer" in r.urn}
    # Kubernetes replaces none of them on such a change (the Service keeps its name): only the
    # containers count there.
    replaced_with_qgis = {r.urn for r in after.resources if r.urn in qgis and r.type == CONTAINER}
    nginx = [r for r in after.resources if r.type == proxy_type and "NginxProxy" in r.urn]
    assert nginx
    for resource in nginx:
        assert resource.inputs == before.by_urn(resource.urn).inputs, f"{resource.name} changed"
        fed_by_qgis = {key: sorted(set(urns) & replaced_with_qgis)
                       for key, urns in resource.property_dependencies.items() if set(urns) & replaced_with_qgis}
        assert fed_by_qgis == {}, f"{resource.name}'s inputs come from QGIS resources: {fed_by_qgis}"
    changed = [r.name for r in after.resources if r.urn in qgis and r.custom
               and r.inputs != before.by_urn(r.urn).inputs]
    assert changed, "the change reached no QGIS resource, so this test would prove nothing"


def test_a_changed_project_file_gets_new_cache_keys_and_every_project_an_address(tmp_path):
    """Maps cached from an older version of the folder are never looked up once nginx runs with the new one."""
    import shutil

    from offline.program_run import PROJECT_ROOT

    folder = tmp_path / "maps"
    shutil.copytree(PROJECT_ROOT / "data", folder)
    shutil.copy(folder / "sample.qgs", folder / "second.qgs")

    def cache_keys(run):
        return set(re.findall(r'fastcgi_cache_key "([^"]*)";', run.nginx_config("qgis-nginx")))

    before = run_program("dev", {"geostack:qgisProjectDir": str(folder)})
    assert before.outputs["projectUrls"] == {"sample": "http://localhost:8080/ogc/sample",
                                             "second": "http://localhost:8080/ogc/second"}
    (folder / "parks.geojson").write_text((folder / "parks.geojson").read_text().replace("Riverside", "Lakeside"))
    after = run_program("dev", {"geostack:qgisProjectDir": str(folder)})
    assert len(cache_keys(before)) == len(cache_keys(after)) == 1
    assert cache_keys(before) != cache_keys(after)
    assert all(key.endswith("$request_method$request_uri") for key in cache_keys(after)), "keys still name the request"
