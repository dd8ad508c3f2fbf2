"""Labels for the test projects' layers, in a given font; imported by the PyQGIS scripts beside it
(they run with Debian's python3, which finds this module in the scripts' own folder)."""
from qgis.core import Qgis, QgsPalLayerSettings, QgsTextFormat, QgsVectorLayerSimpleLabeling
from qgis.PyQt.QtGui import QColor, QFont


def label(layer, field: str, family: str, size: float, unit=Qgis.RenderUnit.Points) -> None:
    """Black labels of `field` in `family`, `size` in `unit`."""
    text = QgsTextFormat()
    text.setFont(QFont(family))
    text.setSize(size)
    text.setSizeUnit(unit)
    text.setColor(QColor(0, 0, 0))
    settings = QgsPalLayerSettings()
    settings.fieldName = field
    settings.enabled = True
    settings.setFormat(text)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)
