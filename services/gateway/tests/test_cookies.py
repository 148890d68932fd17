"""Session cookies: `__Host-` ones outside local mode (Secure, Path=/, no Domain), plain ones over local HTTP."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from fastapi import Response

from gateway.auth import clear_session_cookies, cookie_names, set_session_cookies


def request(local_mode: bool):
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(local_mode=local_mode))))


def cookies(response: Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("set-cookie")}


@pytest.mark.parametrize("local_mode,names", [(False, ("__Host-metro_session", "__Host-metro_csrf")),
                                              (True, ("metro_session", "metro_csrf"))])
def test_session_cookies_are_host_cookies_outside_local_mode(local_mode, names):
    assert cookie_names(local_mode) == names
    response = Response()
    set_session_cookies(request(local_mode), response, "token", "csrf",
                        dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    written = cookies(response)
    assert sorted(written) == sorted(names)
    for header in written.values():
        assert "Path=/" in header and "Domain" not in header
        assert ("Secure" in header) is not local_mode
    assert "HttpOnly" in written[names[0]] and "HttpOnly" not in written[names[1]]

    cleared = Response()
    clear_session_cookies(request(local_mode), cleared)
    for header in cookies(cleared).values():
        assert "Max-Age=0" in header and ("Secure" in header) is not local_mode
