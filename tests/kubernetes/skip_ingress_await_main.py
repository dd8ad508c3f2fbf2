"""Test-only entry point for the GeoNode-on-staging test: geostack's own program (renamed
geostack_main.py in the test's project copy), with the kubernetes provider's await turned off.

GeoNode's images cannot be pulled here, so its pods never become Ready and its Services never
get endpoints; awaiting them would only make `pulumi up` time out. Everything else is the
product's program unchanged: the annotation below is the provider's documented escape hatch,
and the stack this runs deploys GeoNode alone (qgisEnabled=false).
"""
import runpy

import pulumi

# Kinds the kubernetes provider awaits (Readiness, completion, endpoints, load balancer).
AWAITED = ("apps/v1:Deployment", "apps/v1:StatefulSet", "batch/v1:Job", "core/v1:Service", "core/v1:Pod",
           "networking.k8s.io/v1:Ingress")


def skip_await(args: pulumi.ResourceTransformArgs):
    if not args.type_.startswith("kubernetes:") or not args.type_.endswith(AWAITED):
        return None
    metadata = dict(args.props.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), "pulumi.com/skipAwait": "true"}
    return pulumi.ResourceTransformResult({**args.props, "metadata": metadata}, args.opts)


pulumi.runtime.register_resource_transform(skip_await)
runpy.run_path("geostack_main.py", run_name="__main__")
