"""A scripted browser (requests over real HTTP) that signs in through an OpenID Provider."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

TIMEOUT = 15


@dataclass
class Browser:
    session: requests.Session
    base_url: str

    def get(self, path_or_url: str, **kwargs) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.session.get(self._url(path_or_url), timeout=TIMEOUT, **kwargs)

    def post(self, path_or_url: str, **kwargs) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.session.post(self._url(path_or_url), timeout=TIMEOUT, **kwargs)

    def _url(self, path_or_url: str) -> str:
        return path_or_url if "://" in path_or_url else self.base_url + path_or_url

    @property
    def session_id(self) -> str | None:
        return self.session.cookies.get("sessionid")

    # --- the Entra emulator's sign-in ---------------------------------------------------

    def start_sign_in(self, next_url: str | None = None) -> str:
        """Ask the site to start a sign-in; return the IdP authorize URL it redirects to."""
        path = "/oidc/authenticate/" + (f"?{urlencode({'next': next_url})}" if next_url else "")
        response = self.get(path)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def pick_account(self, authorize_url: str, account: str) -> str:
        """Choose a person on the emulator's account picker; return the callback URL."""
        page = self.get(authorize_url)
        assert page.status_code == 200, page.text[:500]
        response = self.post(authorize_url, data={"account": account})
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def sign_in(self, account: str, next_url: str | None = None) -> requests.Response:
        """The whole flow; returns the site's answer to the callback (not followed)."""
        callback = self.pick_account(self.start_sign_in(next_url), account)
        return self.get(callback)


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
