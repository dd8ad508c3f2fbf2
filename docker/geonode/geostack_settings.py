"""GeoNode's settings, plus the two things geostack configures that GeoNode reads from nowhere.

DJANGO_SETTINGS_MODULE names this module in the image. It changes nothing unless its
environment variables are set.
"""
import os

from geonode.settings import *  # noqa: F401,F403 (everything GeoNode configures stays as it is)

# Behind a proxy that terminates TLS, Django sees plain HTTP while browsers send
# `Origin: https://<site>`; Django 4+ then rejects every form POST (login included) with a
# CSRF 403 unless the origin is trusted. Comma-separated, such as https://maps.example.org.
CSRF_TRUSTED_ORIGINS = [origin for origin in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if origin]

# geostack:geonodeExtraSettings: Python statements run after everything above, so a site can
# set any Django or GeoNode setting without building its own image.
_EXTRA_SETTINGS = os.environ.get("GEOSTACK_EXTRA_SETTINGS", "")
if _EXTRA_SETTINGS:
    exec(compile(_EXTRA_SETTINGS, "geostack:geonodeExtraSettings", "exec"))  # noqa: S102 (the operator's own code)
