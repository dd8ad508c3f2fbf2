"""Generate a heavy, realistic QGIS Server project for the performance benchmark.

Run with Debian's system Python, which has PyQGIS and GDAL (`apt-get install python3-qgis`):

    /usr/bin/python3 scripts/make_heavy_project.py                 # writes build/heavy-project/
    /usr/bin/python3 scripts/make_heavy_project.py --out /tmp/heavy

The small sample in data/ renders a tile in a few milliseconds, which measures the server's
plumbing rather than QGIS. This project makes QGIS do the work a real city map does: about
40 000 irregular parcels under a rule-based renderer with scale-dependent outlines and labels,
a few thousand roads with labels along the lines, a few thousand POIs, and a 4000 x 4000
elevation GeoTIFF drawn as a hillshade underneath, over 20 km x 20 km (EPSG:3857 units)
around 10.0E 50.0N.

Output (`--out`): heavy.gpkg (parcels, roads, pois), elevation.tif, heavy.qgs (relative
paths, so the folder can be mounted anywhere) and heavy.json (extent, layer names, a default
LAYERS value and feature counts for the benchmark). A fixed seed makes every run produce the
same data.
"""
import argparse
import json
import math
import os
import re
import struct
import sys
import time

# Qt randomises its hash seed per process, which shuffles the order of XML attributes in the
# .qgs; a fixed seed (read when Qt first hashes, so before importing qgis) makes it repeatable.
os.environ["QT_HASH_SEED"] = "0"

try:
    import numpy as np
    from osgeo import gdal, ogr, osr
    from qgis.core import (
        Qgis,
        QgsApplication,
        QgsBilinearRasterResampler,
        QgsCategorizedSymbolRenderer,
        QgsCoordinateReferenceSystem,
        QgsFillSymbol,
        QgsHillshadeRenderer,
        QgsLineSymbol,
        QgsMarkerSymbol,
        QgsPalLayerSettings,
        QgsProject,
        QgsRasterLayer,
        QgsRendererCategory,
        QgsRuleBasedRenderer,
        QgsTextBufferSettings,
        QgsTextFormat,
        QgsVectorLayer,
        QgsVectorLayerSimpleLabeling,
    )
    from qgis.PyQt.QtCore import QDateTime
    from qgis.PyQt.QtGui import QColor, QFont, QPainter
except ImportError as error:
    sys.exit(f"make_heavy_project.py needs PyQGIS, GDAL and numpy ({error}). Run it with Debian's "
             "system Python: /usr/bin/python3 scripts/make_heavy_project.py "
             "(apt-get install python3-qgis python3-gdal python3-numpy)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20240601
CELL = 100.0            # parcel grid spacing in EPSG:3857 metres
CELLS = 200             # 200 x 200 cells = 40 000 parcels over 20 km x 20 km
BLOCK = 4               # a road every 4th grid line: 400 m blocks
RASTER_SIZE = 4000      # 5 m pixels
# The extent: 20 km squares around 10.0E 50.0N (x 1113194.9, y 6446275.8), rounded.
XMIN, YMIN = 1103200.0, 6436300.0
XMAX, YMAX = XMIN + CELLS * CELL, YMIN + CELLS * CELL

# Land use with skewed frequencies, the colour it is drawn with, and building heights (m).
LANDUSE = {
    "residential": (0.46, "233,196,160", (3, 30)),
    "farmland": (0.22, "238,232,170", (0, 0)),
    "commercial": (0.10, "242,160,160", (6, 80)),
    "park": (0.10, "172,214,140", (0, 0)),
    "industrial": (0.08, "205,185,215", (6, 25)),
    "water": (0.04, "150,190,230", (0, 0)),
}
ROAD_STYLE = {  # class: (colour, width mm, casing width mm, drawn from 1:N in, 0 = always)
    "motorway": ("232,120,40", 1.4, 1.9, 0),
    "primary": ("250,200,80", 1.0, 1.4, 0),
    "secondary": ("255,240,150", 0.7, 1.0, 300000),
    "residential": ("255,255,255", 0.45, 0.7, 100000),
}
POI_KINDS = {"bus_stop": 0.25, "shop": 0.2, "restaurant": 0.15, "cafe": 0.1, "school": 0.06,
             "pharmacy": 0.06, "bank": 0.05, "church": 0.05, "fuel": 0.04, "playground": 0.04}
STREET_STEMS = ["Linden", "Ahorn", "Birken", "Eichen", "Kastanien", "Garten", "Mühlen", "Schul",
                "Kirch", "Bahnhof", "Berg", "Wiesen", "Rosen", "Tannen", "Buchen", "Feld", "Bach",
                "Sonnen", "Wald", "Hafen", "Markt", "Burg", "Brunnen", "Holunder", "Weiden"]
STREET_ENDINGS = ["straße", "weg", "allee", "gasse", "ring", "damm"]


def street_names(rng, count):
    return [rng.choice(STREET_STEMS) + rng.choice(STREET_ENDINGS) for _ in range(count)]


def parcel_grid(rng):
    """Jittered grid corners plus 1-2 bent points per cell edge, shared by neighbouring cells.

    Sharing corners and edge points makes the parcels tile the area like a cadastre (no gaps,
    no overlaps) and lets roads run exactly along parcel boundaries. Jitter stays below a quarter
    cell and edge bends below 5 %, which keeps every ring simple (checked in write_vectors).
    """
    n = CELLS
    ii, jj = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    jitter = rng.uniform(-0.22, 0.22, size=(n + 1, n + 1, 2)) * CELL
    jitter[[0, -1], :, 0] = 0   # corners on the extent's edge stay on it
    jitter[:, [0, -1], 1] = 0
    corners = np.stack([XMIN + ii * CELL, YMIN + jj * CELL], axis=-1) + jitter

    def edges(start, end, border):
        """Bend points for the edges start->end: (..., 2 points, xy) and how many (1 or 2) to use."""
        t = np.sort(rng.uniform(0.3, 0.7, size=start.shape[:-1] + (2,)), axis=-1)
        offset = rng.uniform(-0.05, 0.05, size=t.shape) * CELL
        offset[border] = 0  # the extent's outline stays straight
        direction = end - start
        normal = np.stack([-direction[..., 1], direction[..., 0]], axis=-1)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        points = (start[..., None, :] + t[..., None] * direction[..., None, :]
                  + offset[..., None] * normal[..., None, :])
        return points, rng.integers(1, 3, size=start.shape[:-1])

    border_h = np.zeros((n, n + 1), bool)
    border_h[:, [0, -1]] = True
    border_v = np.zeros((n + 1, n), bool)
    border_v[[0, -1], :] = True
    # horizontal[i, j]: corner (i, j) -> (i + 1, j); vertical[i, j]: corner (i, j) -> (i, j + 1)
    horizontal = edges(corners[:-1, :], corners[1:, :], border_h)
    vertical = edges(corners[:, :-1], corners[:, 1:], border_v)
    return corners, horizontal, vertical


def edge_points(edge, i, j, reverse=False):
    points, counts = edge
    chosen = points[i, j, :counts[i, j]]
    return chosen[::-1] if reverse else chosen


def cell_ring(grid, i, j):
    """Closed counter-clockwise ring of cell (i, j): 4 corners and 4-8 edge points."""
    corners, horizontal, vertical = grid
    ring = [corners[i, j][None], edge_points(horizontal, i, j),
            corners[i + 1, j][None], edge_points(vertical, i + 1, j),
            corners[i + 1, j + 1][None], edge_points(horizontal, i, j + 1, reverse=True),
            corners[i, j + 1][None], edge_points(vertical, i, j, reverse=True),
            corners[i, j][None]]
    return np.concatenate(ring)


def grid_line(grid, axis, k, start, stop):
    """Vertices along grid line k (axis 0: x = const, 1: y = const) from cell start to stop."""
    corners, horizontal, vertical = grid
    parts = []
    for m in range(start, stop):
        if axis == 0:
            parts += [corners[k, m][None], edge_points(vertical, k, m)]
        else:
            parts += [corners[m, k][None], edge_points(horizontal, m, k)]
    parts.append((corners[k, stop] if axis == 0 else corners[stop, k])[None])
    return np.concatenate(parts)


def wkb_polygon(ring):
    return struct.pack("<BIII", 1, ogr.wkbPolygon, 1, len(ring)) + ring.astype("<f8").tobytes()


def wkb_line(points):
    return struct.pack("<BII", 1, ogr.wkbLineString, len(points)) + points.astype("<f8").tobytes()


def river_y(x):
    """The river's centre line, meandering west to east through the lower half of the area."""
    return YMIN + 0.35 * (YMAX - YMIN) + 1200 * np.sin((x - XMIN) / 2300.0) + 500 * np.sin((x - XMIN) / 700.0)


def ground_factor(y):
    """Web Mercator stretches areas by 1/cos^2(latitude): convert map m^2 to ground m^2."""
    latitude = np.arctan(np.sinh(y / 6378137.0))
    return np.cos(latitude) ** 2


def landuse_classes(rng, centres):
    """Districts of a dominant land use (commercial near the centre, farmland at the edge),
    with a quarter of parcels drawn at random, and water along the river."""
    names = list(LANDUSE)
    weights = np.array([LANDUSE[name][0] for name in names])
    districts = rng.uniform([XMIN, YMIN], [XMAX, YMAX], size=(90, 2))
    middle = np.array([(XMIN + XMAX) / 2, (YMIN + YMAX) / 2])
    remoteness = np.linalg.norm(districts - middle, axis=1) / (XMAX - XMIN)   # 0 .. ~0.7
    dominant = []
    for far in remoteness:
        w = weights * np.array([1.2 - far, 0.2 + 3 * far, 2.0 - 3 * far, 1, 1, 0.3]).clip(0.05)
        dominant.append(rng.choice(len(names), p=w / w.sum()))
    nearest = np.argmin(((centres[:, None, :] - districts[None]) ** 2).sum(-1), axis=1)
    classes = np.array(dominant)[nearest]
    scattered = rng.random(len(centres)) < 0.25
    classes[scattered] = rng.choice(len(names), size=scattered.sum(), p=weights / weights.sum())
    classes[np.abs(centres[:, 1] - river_y(centres[:, 0])) < 110] = names.index("water")
    return [names[c] for c in classes]


def create_layer(source, name, geometry_type, fields):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer(name, srs, geometry_type, ["SPATIAL_INDEX=YES"])
    for field_name, field_type in fields:
        layer.CreateField(ogr.FieldDefn(field_name, field_type))
    return layer


def write_features(layer, rows):
    """rows: (wkb, {field: value}); one transaction per layer keeps the writes fast."""
    layer.StartTransaction()
    definition = layer.GetLayerDefn()
    for wkb, attributes in rows:
        feature = ogr.Feature(definition)
        feature.SetGeometry(ogr.CreateGeometryFromWkb(wkb))
        for key, value in attributes.items():
            feature.SetField(key, value)
        layer.CreateFeature(feature)
    layer.CommitTransaction()


def write_vectors(path, rng):
    """parcels, roads and pois into one GeoPackage; returns the feature counts."""
    grid = parcel_grid(rng)
    cells = [(i, j) for j in range(CELLS) for i in range(CELLS)]
    rings = [cell_ring(grid, i, j) for i, j in cells]
    centres = np.array([ring[:-1].mean(axis=0) for ring in rings])
    landuse = landuse_classes(rng, centres)
    # Every vertical road line has a name; a parcel takes the name of its nearest one.
    streets_x = street_names(rng, CELLS // BLOCK + 1)
    streets_y = street_names(rng, CELLS // BLOCK + 1)

    # OGR_CURRENT_DATE pins the GeoPackage's last_change stamps, so reruns give the same file.
    gdal.SetConfigOption("OGR_CURRENT_DATE", "2024-01-01T00:00:00.000Z")
    if os.path.exists(path):
        os.remove(path)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(path)

    parcels = create_layer(source, "parcels", ogr.wkbPolygon, [
        ("name", ogr.OFTString), ("landuse", ogr.OFTString),
        ("area_m2", ogr.OFTReal), ("height", ogr.OFTInteger)])
    rows = []
    for (i, j), ring, use in zip(cells, rings, landuse):
        x, y = ring[:-1, 0], ring[:-1, 1]
        planar = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))  # shoelace
        low, high = LANDUSE[use][2]
        rows.append((wkb_polygon(ring), {
            "name": f"{streets_x[(i + BLOCK // 2) // BLOCK]} {j + 1}",
            "landuse": use,
            "area_m2": round(float(planar * ground_factor(y.mean())), 1),
            "height": int(rng.integers(low, high + 1)) if high else 0}))
    invalid = sum(not ogr.CreateGeometryFromWkb(wkb).IsValid() for wkb, _ in rows)
    if invalid:
        sys.exit(f"{invalid} parcels are invalid polygons: reduce the jitter")
    write_features(parcels, rows)

    roads = create_layer(source, "roads", ogr.wkbLineString, [("class", ogr.OFTString), ("name", ogr.OFTString)])
    write_features(roads, road_rows(grid, streets_x, streets_y))
    pois = create_layer(source, "pois", ogr.wkbPoint, [("kind", ogr.OFTString), ("name", ogr.OFTString)])
    write_features(pois, poi_rows(rng, centres, landuse, rings, cells, streets_x))
    counts = {name: source.GetLayerByName(name).GetFeatureCount() for name in ("parcels", "roads", "pois")}
    counts["parcels_by_landuse"] = {name: landuse.count(name) for name in LANDUSE}
    source = None  # closes and flushes the GeoPackage
    return counts


def road_rows(grid, streets_x, streets_y):
    """Roads along every BLOCK-th grid line, one feature per 400 m block, plus two motorways.

    Classes follow the line's index: a primary road every 48 cells, a secondary every 16.
    """
    rows = []
    for axis, streets in ((0, streets_x), (1, streets_y)):
        for k in range(BLOCK, CELLS, BLOCK):
            road_class = "primary" if k % 48 == 24 else "secondary" if k % 16 == 8 else "residential"
            name = f"B {k // 8}" if road_class == "primary" else streets[k // BLOCK]
            for start in range(0, CELLS, BLOCK):
                line = grid_line(grid, axis, k, start, start + BLOCK)
                rows.append((wkb_line(line), {"class": road_class, "name": name}))
    # Motorways cross the grid on long curves, cut in 1 km pieces like real road graphs are.
    s = np.linspace(0, 1, 401)
    curves = {
        "A 66": np.stack([XMIN + s * (XMAX - XMIN), YMIN + 0.62 * (YMAX - YMIN) + 1500 * np.sin(s * 5.0)], 1),
        "A 7": np.stack([XMIN + 0.3 * (XMAX - XMIN) + 2500 * np.sin(s * 3.5 + 0.4), YMIN + s * (YMAX - YMIN)], 1),
    }
    for name, curve in curves.items():
        for start in range(0, 400, 20):
            rows.append((wkb_line(curve[start:start + 21]), {"class": "motorway", "name": name}))
    return rows


def poi_rows(rng, centres, landuse, rings, cells, streets_x, count=3000):
    """POIs inside parcels, mostly commercial and residential ones, none in water."""
    preference = {"commercial": 6, "residential": 2, "industrial": 1, "park": 1, "farmland": 0.1, "water": 0}
    weights = np.array([preference[use] for use in landuse], float)
    chosen = rng.choice(len(centres), size=count, p=weights / weights.sum())
    kinds = rng.choice(list(POI_KINDS), size=count, p=list(POI_KINDS.values()))
    rows = []
    for index, kind in zip(chosen, kinds):
        # A random point between the parcel's centre and one of its vertices stays inside it
        # (the cells are star-shaped around their centre).
        ring = rings[index]
        corner = ring[rng.integers(len(ring) - 1)]
        x, y = centres[index] + rng.uniform(0.1, 0.7) * (corner - centres[index])
        street = streets_x[(cells[index][0] + BLOCK // 2) // BLOCK]
        rows.append((struct.pack("<BIdd", 1, ogr.wkbPoint, x, y),
                     {"kind": str(kind), "name": f"{kind.replace('_', ' ').title()} {street}"}))
    return rows


def write_elevation(path, rng):
    """Synthetic terrain: random waves from 8 km to 150 m long (amplitude falling with the
    frequency, like real relief) and a valley cut along the river; tiled, DEFLATE-compressed,
    with internal overviews so zoomed-out tiles read little data."""
    pixel = (XMAX - XMIN) / RASTER_SIZE
    offsets = (np.arange(RASTER_SIZE) + 0.5) * pixel
    x, y = XMIN + offsets, YMAX - offsets   # pixel centres, rows run north to south
    dx, dy = (x - XMIN).astype(np.float32)[None, :], (y - YMIN).astype(np.float32)[:, None]
    height = np.full((RASTER_SIZE, RASTER_SIZE), 400.0, np.float32)
    for wavelength in np.geomspace(8000, 150, 36):
        angle, phase = rng.uniform(0, math.pi), rng.uniform(0, 2 * math.pi)
        k = 2 * math.pi / wavelength
        # sin(a + b) split in x and y factors: outer products instead of 16M sin() calls.
        ax, by = k * math.cos(angle) * dx, k * math.sin(angle) * dy + phase
        height += np.float32(wavelength / 200) * (np.sin(ax) * np.cos(by) + np.cos(ax) * np.sin(by))
    valley = np.abs(y[:, None] - river_y(x)[None, :]).astype(np.float32)
    height -= 60 * np.exp(-(valley / 900) ** 2)
    height = np.round(height, 1)  # decimetres are plenty and compress far better

    memory = gdal.GetDriverByName("MEM").Create("", RASTER_SIZE, RASTER_SIZE, 1, gdal.GDT_Float32)
    memory.SetGeoTransform((XMIN, pixel, 0, YMAX, 0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    memory.SetProjection(srs.ExportToWkt())
    memory.GetRasterBand(1).WriteArray(height)
    gdal.Translate(path, memory, format="GTiff", creationOptions=[
        "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE", "PREDICTOR=3"])
    with_overviews = gdal.Open(path, gdal.GA_Update)
    gdal.SetConfigOption("COMPRESS_OVERVIEW", "DEFLATE")
    gdal.SetConfigOption("PREDICTOR_OVERVIEW", "3")
    with_overviews.BuildOverviews("AVERAGE", [2, 4, 8, 16, 32])
    # Exact statistics stored inside the TIFF: QGIS would otherwise estimate them on load and
    # leave an elevation.tif.aux.xml next to it (or fail to, on a read-only mount).
    with_overviews.GetRasterBand(1).ComputeStatistics(False)
    with_overviews = None


def style_elevation(layer):
    hillshade = QgsHillshadeRenderer(layer.dataProvider(), 1, 315, 45)
    hillshade.setOpacity(0.6)  # over the white background: lighter shadows
    layer.setRenderer(hillshade)
    # Zoomed in, QGIS 3.22 shades the nearest-neighbour upsampled pixels, which draws a stripe
    # at every pixel step; a bilinear resampler makes it shade at native resolution and smooth.
    layer.resampleFilter().setZoomedInResampler(QgsBilinearRasterResampler())


def style_parcels(layer):
    """One rule per land use; outlines (a second rendering pass) only from 1:40 000 in."""
    root = QgsRuleBasedRenderer.Rule(None)
    for name, (_, colour, _) in LANDUSE.items():
        symbol = QgsFillSymbol.createSimple({"color": colour, "outline_style": "no"})
        root.appendChild(QgsRuleBasedRenderer.Rule(symbol, 0, 0, f"\"landuse\" = '{name}'", name))
    outline = QgsFillSymbol.createSimple({"style": "no", "outline_color": "120,100,90,255", "outline_width": "0.15"})
    outline.symbolLayer(0).setRenderingPass(1)
    outlines = QgsRuleBasedRenderer.Rule(outline, 0, 0, "", "parcel outlines")
    outlines.setMinimumScale(40000)   # QGIS's "minimum" scale is the most zoomed-out one
    root.appendChild(outlines)
    renderer = QgsRuleBasedRenderer(root)
    renderer.setUsingSymbolLevels(True)
    layer.setRenderer(renderer)
    # Multiply lets the hillshade underneath shade the land use colours.
    layer.setBlendMode(QPainter.CompositionMode_Multiply)
    label(layer, "name", 8, QColor(70, 50, 40), scale_limit=10000)


def style_roads(layer):
    """One rule per class: casing and fill, minor classes only when zoomed in."""
    root = QgsRuleBasedRenderer.Rule(None)
    for name, (colour, width, casing, scale_limit) in ROAD_STYLE.items():
        symbol = QgsLineSymbol.createSimple({"line_color": "90,80,70,255", "line_width": str(casing),
                                             "capstyle": "round", "joinstyle": "round"})
        inner = QgsLineSymbol.createSimple({"line_color": colour, "line_width": str(width),
                                            "capstyle": "round", "joinstyle": "round"})
        symbol.appendSymbolLayer(inner.symbolLayer(0).clone())
        symbol.symbolLayer(1).setRenderingPass(1)  # after clone(): QGIS 3.22's clone drops the pass
        rule = QgsRuleBasedRenderer.Rule(symbol, 0, 0, f"\"class\" = '{name}'", name)
        rule.setMinimumScale(scale_limit)  # QGIS's "minimum" scale is the most zoomed-out one
        root.appendChild(rule)
    renderer = QgsRuleBasedRenderer(root)
    # Symbol levels draw all casings first, so the joints between road pieces stay clean.
    renderer.setUsingSymbolLevels(True)
    layer.setRenderer(renderer)
    label(layer, "name", 7.5, QColor(40, 40, 40), scale_limit=50000, along_lines=True)


def style_pois(layer):
    palette = ["31,119,180", "255,127,14", "44,160,44", "214,39,40", "148,103,189",
               "140,86,75", "227,119,194", "127,127,127", "188,189,34", "23,190,207"]
    categories = [
        QgsRendererCategory(kind, QgsMarkerSymbol.createSimple(
            {"name": "circle", "color": colour, "outline_color": "255,255,255", "size": "2.2"}), kind)
        for kind, colour in zip(POI_KINDS, palette)]
    layer.setRenderer(QgsCategorizedSymbolRenderer("kind", categories))
    # 3000 dots are noise on a city-wide map: show them from 1:100 000 in.
    layer.setScaleBasedVisibility(True)
    layer.setMinimumScale(100000)


def label(layer, field, size, colour, scale_limit, along_lines=False):
    """Labels on `field` from 1:scale_limit in, with a white halo."""
    text = QgsTextFormat()
    text.setFont(QFont("DejaVu Sans"))
    text.setSize(size)
    text.setColor(colour)
    halo = QgsTextBufferSettings()
    halo.setEnabled(True)
    halo.setSize(0.8)
    halo.setColor(QColor(255, 255, 255))
    text.setBuffer(halo)
    settings = QgsPalLayerSettings()
    settings.fieldName = field
    settings.setFormat(text)
    settings.scaleVisibility = True
    settings.minimumScale = scale_limit   # the most zoomed-out scale labels appear at
    settings.maximumScale = 0
    if along_lines:
        settings.placement = Qgis.LabelPlacement.Curved
        # Roads are cut per block; merging connected pieces of one street gives the label
        # room to fit and avoids one label per block.
        lines = settings.lineSettings()
        lines.setMergeLines(True)
        settings.setLineSettings(lines)
    else:
        settings.placement = Qgis.LabelPlacement.OverPoint
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


def write_project(out, counts):
    """heavy.qgs referencing heavy.gpkg and elevation.tif by relative path, and heavy.json."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed to write a project
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    project = QgsProject.instance()
    project.setTitle("geostack heavy benchmark")
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:3857"))

    elevation = QgsRasterLayer(os.path.join(out, "elevation.tif"), "elevation", "gdal")
    gpkg = os.path.join(out, "heavy.gpkg")
    vectors = {name: QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr") for name in ("parcels", "roads", "pois")}
    layers = [elevation, *vectors.values()]
    for layer in layers:
        if not layer.isValid():
            sys.exit(f"layer {layer.name()} did not load")
    style_elevation(elevation)
    style_parcels(vectors["parcels"])
    style_roads(vectors["roads"])
    style_pois(vectors["pois"])
    # addMapLayer puts each new layer on top: raster first, POIs last.
    for layer in layers:
        project.addMapLayer(layer)
    # Per-layer snapping settings are for editing and come out in a pointer-dependent order.
    snapping = project.snappingConfig()
    snapping.clearIndividualLayerSettings()
    project.setSnappingConfig(snapping)
    metadata = project.metadata()
    metadata.setCreationDateTime(QDateTime(2024, 1, 1, 0, 0))  # not "now": reruns stay identical
    project.setMetadata(metadata)

    extent = [XMIN, YMIN, XMAX, YMAX]
    project.writeEntry("WMSServiceTitle", "/", "geostack heavy benchmark")
    project.writeEntry("WMSServiceAbstract", "/", "Synthetic city for load tests: parcels, roads, POIs, hillshade")
    project.writeEntry("WMSCrsList", "/", ["EPSG:3857", "EPSG:4326"])
    project.writeEntry("WMSExtent", "/", [str(v) for v in extent])
    project.writeEntry("WFSLayers", "/", [layer.id() for layer in vectors.values()])
    for layer in vectors.values():
        project.writeEntry("WFSLayersPrecision", "/" + layer.id(), 2)
    project.writeEntryBool("Paths", "/Absolute", False)
    target = os.path.join(out, "heavy.qgs")
    if not project.write(target):
        sys.exit("could not write heavy.qgs")
    if os.path.exists(target + "~"):
        os.remove(target + "~")
    make_reproducible(target)
    names = [layer.name() for layer in layers]
    app.exitQgis()  # deletes the layers

    summary = {
        "crs": "EPSG:3857",
        "extent": extent,
        "project": "heavy.qgs",
        "layers": names,
        # Bottom to top, like the project's own order: a GetMap with all four layers.
        "default_layers": ",".join(names),
        "feature_counts": {name: counts[name] for name in vectors},
        "parcels_by_landuse": counts["parcels_by_landuse"],
        "raster": {"name": "elevation", "size": [RASTER_SIZE, RASTER_SIZE], "pixel_m": (XMAX - XMIN) / RASTER_SIZE},
        # Visibility thresholds (scale denominators, 0.28 mm pixels): a 256 px tile
        # W metres wide is drawn at about 1:(W * 13.95), so these widths cross them.
        "tile_widths_m": {"city": 20000, "district": 2000, "street": 300},
        "scale_thresholds": {"parcel_outlines": 40000, "parcel_labels": 10000, "road_labels": 50000,
                             "residential_roads": 100000, "secondary_roads": 300000, "pois": 100000},
        "seed": SEED,
    }
    with open(os.path.join(out, "heavy.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1, ensure_ascii=False)
        handle.write("\n")


def make_reproducible(path):
    """QGIS gives layers and renderer rules random UUIDs and stamps the save time and user.
    Number the UUIDs in order of appearance instead and drop the stamps, so every run writes
    the same file. (Layer ids keep QGIS's "<name>_<uuid>" shape: QGIS 3.22 ignores an id of
    10 characters or fewer when it reads a project and invents a new one, which breaks every
    reference to the layer, e.g. in the layer tree and WFSLayers.)"""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for separator in "_-":  # "_" in layer ids, "-" in rule keys
        numbers = {}

        def sequential(match):
            number = numbers.setdefault(match.group(0), len(numbers) + 1)
            return separator.join(["00000000", "0000", "0000", "0000", f"{number:012d}"])

        uuid = separator.join(["[0-9a-f]{8}"] + ["[0-9a-f]{4}"] * 3 + ["[0-9a-f]{12}"])
        text = re.sub(uuid, sequential, text)
    text = re.sub(r' save(User|UserFull|DateTime)="[^"]*"', "", text)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "heavy-project"),
                        help="output directory (default: build/heavy-project under the repository)")
    out = os.path.abspath(parser.parse_args().out)
    os.makedirs(out, exist_ok=True)
    gdal.UseExceptions()
    ogr.UseExceptions()
    started = time.monotonic()
    rng = np.random.default_rng(SEED)
    counts = write_vectors(os.path.join(out, "heavy.gpkg"), rng)
    write_elevation(os.path.join(out, "elevation.tif"), rng)
    write_project(out, counts)
    print(f"wrote {out} in {time.monotonic() - started:.1f} s: "
          + ", ".join(f"{counts[name]} {name}" for name in ("parcels", "roads", "pois")))


if __name__ == "__main__":
    main()
