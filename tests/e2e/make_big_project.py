"""Writes a project folder of about SIZE_MB, as a GIS team's real one is: a GeoTIFF, a GeoPackage,
SVG symbols and a font, and `terrain.qgs` that draws them all (the points as SVG markers,
labelled in the font).

Run with Debian's python3 (PyQGIS):
  /usr/bin/python3 tests/e2e/make_big_project.py OUT_DIR SIZE_MB FONT_FILE FONT_FAMILY
"""
import os
import shutil
import sys

from osgeo import gdal, osr
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsFeature, QgsField, QgsFields, QgsGeometry,
                       QgsMarkerSymbol, QgsPointXY, QgsProject, QgsRasterLayer, QgsSingleSymbolRenderer,
                       QgsSvgMarkerSymbolLayer, QgsVectorFileWriter, QgsVectorLayer, QgsWkbTypes)
from qgis.PyQt.QtCore import QVariant
from qgis_labels import label

out, size_mb, font_file, family = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
EXTENT = (1113194.9, 6446275.8, 1124326.9, 6457407.8)  # about 11 km square, EPSG:3857, as the sample
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
       '<polygon points="10,1 19,19 1,19" fill="#{color}" stroke="#000"/></svg>\n')

os.makedirs(os.path.join(out, "symbols"), exist_ok=True)
os.makedirs(os.path.join(out, "fonts"), exist_ok=True)
shutil.copy(font_file, os.path.join(out, "fonts", os.path.basename(font_file)))
for index, color in enumerate(("c0392b", "2980b9", "27ae60")):
    with open(os.path.join(out, "symbols", f"marker-{index}.svg"), "w") as svg:
        svg.write(SVG.format(color=color))

# The GeoTIFF: most of the size, three bands of noise (which no compression shrinks), tiled and
# with overviews, as a raster served over WMS should be (a third more bytes).
side = int((size_mb * 0.85 * 0.75 * 2**20 / 3) ** 0.5)
raster = gdal.GetDriverByName("GTiff").Create(os.path.join(out, "terrain.tif"), side, side, 3, gdal.GDT_Byte,
                                              ["TILED=YES"])
raster.SetGeoTransform((EXTENT[0], (EXTENT[2] - EXTENT[0]) / side, 0, EXTENT[3], 0, -(EXTENT[3] - EXTENT[1]) / side))
srs = osr.SpatialReference()
srs.ImportFromEPSG(3857)
raster.SetProjection(srs.ExportToWkt())
rows = 256
for band in range(1, 4):
    for top in range(0, side, rows):
        height = min(rows, side - top)
        raster.GetRasterBand(band).WriteRaster(0, top, side, height, os.urandom(side * height))
raster.BuildOverviews("NEAREST", [2, 4, 8, 16, 32])
raster = None

app = QgsApplication([], False)
app.initQgis()
crs = QgsCoordinateReferenceSystem("EPSG:3857")
# The GeoPackage: the rest of the size, points on a grid with a name and a description.
fields = QgsFields()
fields.append(QgsField("name", QVariant.String))
fields.append(QgsField("description", QVariant.String))
options = QgsVectorFileWriter.SaveVectorOptions()
options.driverName = "GPKG"
options.layerName = "places"
path = os.path.join(out, "places.gpkg")
writer = QgsVectorFileWriter.create(path, fields, QgsWkbTypes.Point, crs,
                                    QgsProject.instance().transformContext(), options)
count = int(size_mb * 0.13 * 2**20 / 1100)
step = int(count ** 0.5) + 1
for index in range(count):
    feature = QgsFeature(fields)
    x = EXTENT[0] + (EXTENT[2] - EXTENT[0]) * (index % step + 0.5) / step
    y = EXTENT[1] + (EXTENT[3] - EXTENT[1]) * (index // step + 0.5) / step
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
    feature.setAttributes([f"Place {index}", os.urandom(500).hex()])
    writer.addFeature(feature)
del writer

project = QgsProject.instance()
project.setCrs(crs)
project.setTitle("Terrain of Tests")
project.writeEntry("WMSServiceTitle", "/", "Terrain of Tests")
project.writeEntry("WMSServiceCapabilities", "/", True)
terrain = QgsRasterLayer(os.path.join(out, "terrain.tif"), "terrain")
places = QgsVectorLayer(f"{path}|layername=places", "places", "ogr")
assert terrain.isValid() and places.isValid()
marker = QgsSvgMarkerSymbolLayer(os.path.join(out, "symbols", "marker-0.svg"), 1.5)
symbol = QgsMarkerSymbol()
symbol.changeSymbolLayer(0, marker)
places.setRenderer(QgsSingleSymbolRenderer(symbol))
label(places, "name", family, 7)
project.addMapLayers([terrain, places])
project.writeEntry("Paths", "/Absolute", False)  # relative paths: the folder moves to /data
assert project.write(os.path.join(out, "terrain.qgs")), "cannot write the project"
app.exitQgis()
