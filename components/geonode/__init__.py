"""GeoNode 5.1 as one component: services, their settings, credentials and nginx config."""
from components.geonode.component import GeoNode, GeoNodeArgs
from components.geonode.env import Site

__all__ = ["GeoNode", "GeoNodeArgs", "Site"]
