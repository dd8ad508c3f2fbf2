"""QGIS Server behind nginx, and GeoNode if enabled, deployed by geostack's program
(pulumi_geostack.program): the stack's `geostack:*` config picks the target and what runs."""
from pulumi_geostack.program import main

main()
