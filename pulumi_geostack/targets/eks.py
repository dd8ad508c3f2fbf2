"""EKS: an existing cluster found by name, images in ECR, nginx behind a LoadBalancer."""
from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
import pulumi_kubernetes as k8s

from pulumi_geostack.settings import EksSettings
from pulumi_geostack.targets.base import NamespaceSpec
from pulumi_geostack.targets.kubernetes import IN_PLACE_CONTENT, KubernetesTarget
from pulumi_geostack.workload import Exposure, ImageBuild


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that gets short-lived tokens from `aws eks get-token` (no stored credentials)."""
    args = ["eks", "get-token", "--cluster-name", cluster_name, "--output", "json"]
    if region:
        args += ["--region", region]
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {
            "server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": args,
        }}}],
    })


def lifecycle_policy(keep_images: int) -> str:
    """ECR lifecycle policy: expire all but the newest `keep_images` images."""
    return json.dumps({"rules": [{
        "rulePriority": 1,
        "description": f"keep the last {keep_images} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
        "action": {"type": "expire"},
    }]})


class EksTarget(KubernetesTarget):
    """Deploys into an existing EKS cluster; the QGIS image goes to an ECR repository."""

    kind = "eks"
    default_ingress_class = "nginx"  # ingress-nginx: TLS from Secrets, body-size annotations

    def __init__(self, name: str, settings: EksSettings, namespace: NamespaceSpec, wait_image: str,
                 production: bool, ca_certificates: str = "", opts: pulumi.ResourceOptions | None = None):
        self.settings = settings
        self.production = production
        super().__init__("geostack:targets:EksTarget", name, namespace, wait_image, ca_certificates, opts)

    def create_provider(self, name: str) -> pulumi.ProviderResource:
        self.aws_provider = aws.Provider(
            f"{name}-aws",
            region=self.settings.region,  # config.py requires one: never the machine's AWS_REGION
            opts=pulumi.ResourceOptions(parent=self),
        )
        cluster = aws.eks.get_cluster_output(
            name=self.settings.cluster_name,
            opts=pulumi.InvokeOutputOptions(provider=self.aws_provider, parent=self),
        )
        config = pulumi.Output.all(cluster.endpoint, cluster.certificate_authorities).apply(
            lambda values: kubeconfig(self.settings.cluster_name, values[0], values[1][0]["data"],
                                      self.settings.region))
        return k8s.Provider(f"{name}-provider", kubeconfig=config, **IN_PLACE_CONTENT,
                           opts=pulumi.ResourceOptions(parent=self))

    def registry_credentials(self, parent: pulumi.Resource) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        """A token for the account's ECR registry, fetched at each deployment (it lasts 12 hours)."""
        token = aws.ecr.get_authorization_token_output(
            opts=pulumi.InvokeOutputOptions(provider=self.aws_provider, parent=parent))
        return token.user_name, pulumi.Output.secret(token.password)

    def storage_class(self, shared: bool) -> str | None:
        # EBS volumes attach to one node; ReadWriteMany needs an EFS-backed class.
        if shared:
            return self.settings.shared_storage_class
        return self.settings.storage_class or None

    def publish_image(self, name: str, build: ImageBuild, parent: pulumi.Resource) -> pulumi.Output[str]:
        aws_opts = pulumi.ResourceOptions(parent=parent, provider=self.aws_provider)
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=build.repository,
            image_scanning_configuration={"scan_on_push": True},
            image_tag_mutability="IMMUTABLE",
            # The images running pods pull: `pulumi destroy` leaves the repository (and a later
            # `up` needs it imported, as docs/operations.md says); production also refuses to delete it.
            opts=pulumi.ResourceOptions(parent=parent, provider=self.aws_provider, protect=self.production,
                                        retain_on_delete=True),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=lifecycle_policy(self.settings.ecr_keep_images),
            opts=aws_opts,
        )
        token = aws.ecr.get_authorization_token_output(
            registry_id=repository.registry_id,
            opts=pulumi.InvokeOutputOptions(provider=self.aws_provider, parent=parent),
        )
        image = docker.Image(
            name,
            image_name=pulumi.Output.concat(repository.repository_url, ":", build.tag),
            build=docker.DockerBuildArgs(context=build.context, dockerfile=build.dockerfile,
                                         args=dict(build.args) or None, platform=self.settings.image_platform),
            registry=docker.RegistryArgs(
                server=repository.repository_url,
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return image.repo_digest

    def service_exposure(self, expose: Exposure) -> dict[str, Any]:
        return {
            "type": "LoadBalancer",
            "ports": [{"name": "http", "port": 80, "target_port": expose.port}],
            "annotations": {
                # NLB in IP mode via the AWS Load Balancer Controller: pods are targeted directly.
                "service.beta.kubernetes.io/aws-load-balancer-type": "external",
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            },
        }

    def public_url(self, service: k8s.core.v1.Service, expose: Exposure) -> pulumi.Output[str]:
        def hostname(status: Any) -> str:
            ingress = (status.load_balancer.ingress if status and status.load_balancer else None) or []
            return (ingress[0].hostname or ingress[0].ip) if ingress else "pending-load-balancer"

        return pulumi.Output.concat("http://", service.status.apply(hostname))
