"""Stand-in for GeoServer under /geoserver/ on :8080 (geostack's tests; not GeoServer).

Answers what GeoNode asks of GeoServer with well-formed, empty answers, and prints every
request as one line, `geoserver-standin: METHOD PATH`, so a test can see what GeoNode called.
"""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CAPABILITIES = b"""<?xml version="1.0" encoding="UTF-8"?>
<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms">
  <Service><Name>WMS</Name><Title>geostack GeoServer stand-in</Title></Service>
  <Capability><Layer><Title>stand-in</Title></Layer></Capability>
</WMS_Capabilities>
"""
VERSION = {"about": {"resource": [{"@name": "GeoServer", "Version": "2.28-stand-in"}]}}


class StandIn(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        print(f"geoserver-standin: {self.command} {self.path}", flush=True)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if not path.startswith("/geoserver"):
            self._answer(404, b"not found\n", "text/plain")
        elif path.rstrip("/").endswith(("/ows", "/wms")):
            self._answer(200, CAPABILITIES, "application/vnd.ogc.wms_xml")
        elif path.endswith("/rest/about/version.json"):
            self._answer(200, json.dumps(VERSION).encode(), "application/json")
        elif path.endswith(".json") or "/rest/" in path:
            self._answer(200, b"{}", "application/json")
        else:
            self._answer(200, b"<html><body>GeoServer stand-in</body></html>", "text/html")

    do_HEAD = do_GET

    def do_POST(self):
        self._answer(201, b"", "text/plain")

    do_PUT = do_POST

    def do_DELETE(self):
        self._answer(200, b"", "text/plain")

    def log_message(self, *args):  # one line per request comes from _answer
        pass


if __name__ == "__main__":
    print("geoserver-standin: listening on :8080", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8080), StandIn).serve_forever()
