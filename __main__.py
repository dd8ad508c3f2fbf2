"""geostack: QGIS Server behind nginx, and GeoNode, on Docker, microk8s or EKS.

The program lives in the package (pulumi_geostack/program.py), which the `pulumi new` template
runs too: load and validate the stack config, create the target, then the QGIS image, server and
nginx proxy, GeoNode, and the stack outputs.
"""
from pulumi_geostack.program import main

main()
