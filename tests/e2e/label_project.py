"""Writes a copy of the sample project whose `sites` are labelled in a given font family.

Run with Debian's python3 (PyQGIS): /usr/bin/python3 tests/e2e/label_project.py IN.qgs OUT.qgs FAMILY
"""
import sys

from qgis.core import Qgis, QgsApplication, QgsProject
from qgis_labels import label

source, target, family = sys.argv[1:4]
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
assert project.read(source), f"cannot read {source}"
layer = project.mapLayersByName("sites")[0]
label(layer, "name", family, 48, Qgis.RenderUnit.Pixels)
assert project.write(target), f"cannot write {target}"
app.exitQgis()
