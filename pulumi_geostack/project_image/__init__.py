"""A project folder as image layers on top of the QGIS Server image, pushed to the target's registry.

Kubernetes cannot carry a real project folder in a ConfigMap (etcd caps an object at 1 MiB), so
the folder becomes layers of an image derived from the QGIS image, which the pods then run:
- `layers`: the folder split into deterministic tar layers (a changed file re-sends its layer only);
- `registry`: just enough of the OCI distribution API to read the base and push the result;
- `provider`: a Pulumi dynamic resource that pushes what the registry lacks and returns the digest.
"""
