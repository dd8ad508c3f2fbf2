"""A minimal browser for end-to-end checks: it keeps cookies, shows redirects instead of
following them, and sends the Origin and Referer headers a browser sends with a form."""
from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as the response


class Browser:
    def __init__(self, base_url: str, address: str | None = None):
        """`base_url` is the site as its users name it; `address` (host:port), if given, is
        where to connect instead, as a browser would through DNS (a Service's cluster IP)."""
        self.base_url = base_url.rstrip("/")
        split = urllib.parse.urlsplit(self.base_url)
        self._connect_url = f"{split.scheme}://{address}" if address else self.base_url
        self._host = split.netloc
        self.cookies = CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 60) -> Response:
        request = urllib.request.Request(self._connect_url + path, data=body, method=method,
                                         headers={"Host": self._host, **(headers or {})})
        try:
            with self._opener.open(request, timeout=timeout) as answer:
                return Response(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def submit(self, path: str, fields: dict[str, str], page: Response | None = None) -> Response:
        """POST a form as a browser does after loading `path`: the CSRF token from the page
        (or the cookie), and the site's own Origin and Referer."""
        token = None
        if page is not None:
            found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            token = found.group(1) if found else None
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token or self.cookie("csrftoken") or "", **fields})
        return self.request("POST", path, body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.base_url,
            "Referer": self.base_url + path,
        })

    def sign_in(self, username: str, password: str) -> "Browser":
        """Sign in through GeoNode's login form as a person does: GET it, then POST it with the
        CSRF token and the site's Origin; the session must be there afterwards."""
        page = self.get("/account/login/")
        assert page.status == 200 and self.cookie("csrftoken"), page.status
        answer = self.submit("/account/login/", {"login": username, "password": password}, page)
        assert answer.status == 302, (answer.status, answer.text[:2000])
        assert self.cookie("sessionid"), "no session after signing in"
        return self
