#!/usr/bin/env python3
"""Signs in to the local dashboard as one of the stack issuer's test users, step by step as a
browser does (no shortcut: the dashboard's own redirect, PKCE cookie and callback), and prints
the session's ID token (the `ib_session` cookie, also the API's bearer token).

    python3 infra/dashboard_signin.py <dashboard base URL> <username> <password>

Used by infra/demo.sh to prove the sign-in works before it prints the URL; stdlib only.
"""
import sys
import urllib.error
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_open = urllib.request.build_opener(_NoRedirect).open


def _request(url, cookie=None, form=None):
    headers = {"Cookie": cookie} if cookie else {}
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        return _open(urllib.request.Request(url, data=data, headers=headers), timeout=120)
    except urllib.error.HTTPError as e:
        return e


def _cookie(response, name):
    for v in response.headers.get_all("Set-Cookie") or []:
        pair = v.split(";", 1)[0]
        k, _, value = pair.partition("=")
        if k.strip() == name and value:
            return value
    return None


def _expect(response, status, what):
    if response.status != status:
        body = response.read()[:300].decode("utf-8", "replace")
        sys.exit(f"sign-in failed at {what}: HTTP {response.status} (wanted {status}): {body}")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    base, user, password = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    # 1. The dashboard sends a signed-out browser to the issuer, with a PKCE cookie.
    r = _request(f"{base}/invoices")
    _expect(r, 303, "the dashboard's redirect to sign in")
    authorize, pkce = r.headers["Location"], _cookie(r, "ib_pkce")
    if not pkce:
        sys.exit("sign-in failed: the dashboard set no ib_pkce cookie")
    # 2. The issuer's sign-in form, submitted with the authorize request's parameters.
    u = urllib.parse.urlsplit(authorize)
    form = urllib.parse.parse_qsl(u.query) + [("username", user), ("password", password)]
    r = _request(urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, "", "")), form=form)
    _expect(r, 302, "the issuer's sign-in form")
    callback = r.headers["Location"]
    # 3. Back at the dashboard's callback: code + verifier exchanged, the session cookie set.
    r = _request(callback, cookie=f"ib_pkce={pkce}")
    _expect(r, 303, "the dashboard's callback")
    session = _cookie(r, "ib_session")
    if not session:
        sys.exit("sign-in failed: the callback set no ib_session cookie")
    # 4. The page the browser wanted, signed in.
    r = _request(f"{base}/invoices", cookie=f"ib_session={session}")
    _expect(r, 200, "the invoices page, signed in")
    print(session)


if __name__ == "__main__":
    main()
