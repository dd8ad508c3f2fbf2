"""Saves a copy of the sample project into PostgreSQL, its layers in the same database, the way a
QGIS Desktop user publishes one: QGIS's own project storage (a `postgresql://` URI), through a
libpq service, so neither the project nor its layers hold a password.

Run with Debian's python3 (PyQGIS), PGSERVICEFILE naming a file that has SERVICE:
  /usr/bin/python3 tests/e2e/save_project_to_postgres.py SAMPLE.qgs SERVICE SCHEMA NAME TITLE
The layers go to tables <NAME>_parks and <NAME>_sites in SCHEMA, replaced if there.
"""
import sys

from qgis.core import (QgsApplication, QgsDataSourceUri, QgsProject, QgsVectorLayerExporter)

source, service, schema, name, title = sys.argv[1:6]
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
assert project.read(source), f"cannot read {source}"
for layer in list(project.mapLayers().values()):
    uri = QgsDataSourceUri(f"service={service}")
    uri.setDataSource(schema, f"{name}_{layer.name()}", "geom", "", "fid")
    error, message = QgsVectorLayerExporter.exportLayer(layer, uri.uri(False), "postgres", layer.crs(), False,
                                                        {"overwrite": True})
    assert error == QgsVectorLayerExporter.ExportError.NoError, message
    layer.setDataSource(uri.uri(False), layer.name(), "postgres")
    assert layer.isValid(), f"{layer.name()} does not open from PostgreSQL"
# The project title and the WMS service title, as the sample states them.
project.setTitle(title)
project.writeEntry("WMSServiceTitle", "/", title)
target = f"postgresql:///?service={service}&schema={schema}&project={name}"
assert project.write(target), f"cannot write the project to PostgreSQL: {project.error()}"
app.exitQgis()
