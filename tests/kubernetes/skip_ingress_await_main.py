"""Test-only entry point for the GeoNode-on-staging test: geostack's own program (renamed
geostack_main.py in the test's project copy), with the kubernetes provider's await turned off
for Ingresses only.

The provider waits for an Ingress until an ingress controller publishes its address; microk8s's
ingress addon does, the test cluster has no ingress controller, so `pulumi up` would time out
there. Everything else is awaited as in a real `pulumi up`: Deployments until their pods are
Ready, Jobs until they complete, Services until they have endpoints. The annotation below is
the provider's documented escape hatch.
"""
import runpy

import pulumi

NOT_AWAITED = ("networking.k8s.io/v1:Ingress",)


def skip_await(args: pulumi.ResourceTransformArgs):
    if not args.type_.startswith("kubernetes:") or not args.type_.endswith(NOT_AWAITED):
        return None
    metadata = dict(args.props.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), "pulumi.com/skipAwait": "true"}
    return pulumi.ResourceTransformResult({**args.props, "metadata": metadata}, args.opts)


pulumi.runtime.register_resource_transform(skip_await)
runpy.run_path("geostack_main.py", run_name="__main__")
