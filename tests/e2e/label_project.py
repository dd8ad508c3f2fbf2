"""Writes a copy of the sample project whose `sites` are labelled in a given font family.

Run with Debian's python3 (PyQGIS): /usr/bin/python3 tests/e2e/label_project.py IN.qgs OUT.qgs FAMILY
"""
import sys

from qgis.core import (Qgis, QgsApplication, QgsPalLayerSettings, QgsProject, QgsTextFormat,
                       QgsVectorLayerSimpleLabeling)
from qgis.PyQt.QtGui import QColor, QFont

source, target, family = sys.argv[1:4]
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
assert project.read(source), f"cannot read {source}"
layer = project.mapLayersByName("sites")[0]
text = QgsTextFormat()
text.setFont(QFont(family))
text.setSize(48)
text.setSizeUnit(Qgis.RenderUnit.Pixels)
text.setColor(QColor(0, 0, 0))
settings = QgsPalLayerSettings()
settings.fieldName = "name"
settings.enabled = True
settings.setFormat(text)
layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
layer.setLabelsEnabled(True)
assert project.write(target), f"cannot write {target}"
app.exitQgis()
