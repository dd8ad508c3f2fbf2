"""geostack's components: config, target-neutral app components and the targets that realize them.

The version is the release this package is (CHANGELOG.md); the program exports it as
`geostackVersion`, so a stack's outputs say which release it runs.
"""
__version__ = "0.2.0"
