#!/bin/bash
# Ready only when QGIS Server answers a WMS GetCapabilities for its project:
# it has no health endpoint, and a bare TCP check passes while it cannot serve.
set -euo pipefail

# The project comes with the request, as nginx sends it (QGIS_PROJECT_FILE in the environment
# would pin every request to it); libfcgi's cgi-fcgi passes its environment as the parameters.
response="$(QGIS_PROJECT_FILE="${QGIS_HEALTHCHECK_PROJECT:-${QGIS_PROJECT_FILE:-}}" REQUEST_METHOD=GET \
  QUERY_STRING="SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities" \
  SERVER_NAME=localhost SERVER_PORT="${QGIS_FCGI_PORT:-5555}" SCRIPT_NAME=/healthcheck \
  timeout 8 cgi-fcgi -bind -connect "127.0.0.1:${QGIS_FCGI_PORT:-5555}")"
grep -q "<WMS_Capabilities" <<<"$response"
