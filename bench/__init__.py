"""The QGIS Server benchmark behind scripts/benchmark.py: request sequences, wrk driving,
setups under test, and the report with its sanity checks."""
