"""Regenerate the sample QGIS project in data/.

Run with Debian's system Python, which has PyQGIS (`apt-get install python3-qgis`):

    /usr/bin/python3 scripts/make_sample_data.py

It writes two small GeoJSON layers and `sample.qgs`, which references them by
relative path so the folder can be mounted anywhere (a Docker bind mount, a
Kubernetes ConfigMap). Everything is local data: no network layers, so the
project loads on machines without internet access.
"""
import json
import os
import sys

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFillSymbol,
    QgsMarkerSymbol,
    QgsProject,
    QgsVectorLayer,
)

HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")

PARKS = [
    ("Riverside Park", 42.5, [(10.00, 50.00), (10.04, 50.00), (10.04, 50.03), (10.00, 50.03)]),
    ("Hill Gardens", 18.0, [(10.05, 50.04), (10.09, 50.04), (10.09, 50.08), (10.05, 50.08)]),
    ("Old Town Green", 7.25, [(10.01, 50.05), (10.03, 50.05), (10.03, 50.07), (10.01, 50.07)]),
]
SITES = [
    ("North Gate", "entrance", (10.020, 50.030)),
    ("Fountain", "landmark", (10.070, 50.060)),
    ("Library", "building", (10.020, 50.060)),
]


def feature_collection(features):
    return {"type": "FeatureCollection", "features": features}


def write_geojson(name, collection):
    path = os.path.join(HERE, f"{name}.geojson")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(collection, handle, indent=1)
        handle.write("\n")
    return path


def main():
    parks = feature_collection([
        {
            "type": "Feature",
            "properties": {"name": name, "area_ha": area},
            "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]},
        }
        for name, area, ring in PARKS
    ])
    sites = feature_collection([
        {
            "type": "Feature",
            "properties": {"name": name, "kind": kind},
            "geometry": {"type": "Point", "coordinates": list(xy)},
        }
        for name, kind, xy in SITES
    ])
    parks_path = write_geojson("parks", parks)
    sites_path = write_geojson("sites", sites)

    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    project = QgsProject.instance()
    project.setTitle("geostack sample")
    web_mercator = QgsCoordinateReferenceSystem("EPSG:3857")
    project.setCrs(web_mercator)

    park_layer = QgsVectorLayer(parks_path, "parks", "ogr")
    park_layer.renderer().setSymbol(QgsFillSymbol.createSimple(
        {"color": "46,139,87,255", "outline_color": "20,60,40,255", "outline_width": "0.6"}))
    site_layer = QgsVectorLayer(sites_path, "sites", "ogr")
    site_layer.renderer().setSymbol(QgsMarkerSymbol.createSimple(
        {"name": "circle", "color": "200,30,30,255", "size": "4"}))
    for layer in (park_layer, site_layer):
        if not layer.isValid():
            sys.exit(f"layer {layer.name()} did not load")
        project.addMapLayer(layer)

    # WMS advertises the sample's extent and the CRSs clients ask for most.
    project.writeEntry("WMSServiceTitle", "/", "geostack sample")
    project.writeEntry("WMSCrsList", "/", ["EPSG:3857", "EPSG:4326"])
    to_project = QgsCoordinateTransform(park_layer.crs(), web_mercator, project)
    extent = to_project.transformBoundingBox(park_layer.extent())
    extent.combineExtentWith(to_project.transformBoundingBox(site_layer.extent()))
    extent.grow(500)  # metres of margin so edge features are not clipped
    project.writeEntry("WMSExtent", "/", [str(v) for v in (
        extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())])
    project.writeEntry("WFSLayers", "/", [park_layer.id(), site_layer.id()])
    project.writeEntryBool("Paths", "/Absolute", False)
    target = os.path.join(HERE, "sample.qgs")
    if not project.write(target):
        sys.exit("could not write sample.qgs")
    # QGIS keeps a backup of the previous file; it is not data to ship.
    if os.path.exists(target + "~"):
        os.remove(target + "~")
    app.exitQgis()


if __name__ == "__main__":
    main()
