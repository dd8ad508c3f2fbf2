"""geostack components: config, target-neutral app components and the targets that realize them."""
