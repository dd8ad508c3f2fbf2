"""GeoNode 5.1 as one component: services, their settings, credentials and nginx config."""
from pulumi_geostack.geonode.component import GeoNode, GeoNodeArgs
from pulumi_geostack.geonode.env import Site

__all__ = ["GeoNode", "GeoNodeArgs", "Site"]
