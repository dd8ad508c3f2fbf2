"""geostack's component package: MapService for Pulumi programs in any language.

The engine runs this directory as a plugin (PulumiPlugin.yaml) in its virtualenv, which has the
pulumi-geostack package installed (requirements.txt); the schema comes from MapService's
annotations. Programs add it with `pulumi package add <this directory>`, or in YAML with
`packages: {geostack: <this directory>}` (examples/yaml-map-service).
"""
from pulumi.provider.experimental import component_provider_host

from pulumi_geostack import __version__
from pulumi_geostack.map_service import MapService

if __name__ == "__main__":
    component_provider_host(components=[MapService], name="geostack", version=__version__)
