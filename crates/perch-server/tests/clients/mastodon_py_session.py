#!/usr/bin/env python3
"""A real Mastodon client library session against a Perch server.

Usage: python3 mastodon_py_session.py http://127.0.0.1:PORT [--strip-trailing-slash]

Drives Mastodon.py (PyPI `Mastodon.py`, tested with 2.3.3) through what
API.md promises a client library can do: register an app, sign up, log in
with the password grant and through the browser sign-in page
(authorization code), verify credentials, post, read the public
timeline, follow and unfollow, favourite, list favourites, read an
account's statuses, upload media and an avatar, and log out. Exits non-zero on the first failed check;
prints "mastodon.py session ok" at the end.
"""
import html
import re
import sys
import uuid

try:
    import requests
    from mastodon import Mastodon, MastodonAPIError, MastodonUnauthorizedError
except ImportError:
    sys.stderr.write(
        "Mastodon.py is not installed: python3 -m pip install --quiet Mastodon.py==2.3.3\n"
    )
    sys.exit(3)

URL = sys.argv[1]
# --strip-trailing-slash rewrites request paths ending in "/" (Mastodon.py
# asks for "/api/v1/instance/", which Mastodon serves) before they are
# sent: it isolates that one incompatibility so that the rest of the
# session can still be checked.
if "--strip-trailing-slash" in sys.argv[2:]:
    import urllib.parse

    import requests

    _request = requests.Session.request

    def _strip(self, method, url, *args, **kwargs):
        parts = urllib.parse.urlsplit(url)
        if len(parts.path) > 1 and parts.path.endswith("/"):
            url = urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/")))
        return _request(self, method, url, *args, **kwargs)

    requests.Session.request = _strip
SCOPES = ["read", "write", "follow"]
PASSWORD = "correct horse battery staple"
SUFFIX = uuid.uuid4().hex[:8]


def step(name):
    print(f"-- {name}", flush=True)


def client(**kwargs):
    # allow_http is not a constructor option; the test server is plain HTTP
    # on loopback, which Mastodon.py accepts for the API itself.
    return Mastodon(api_base_url=URL, request_timeout=30, **kwargs)


step("create_app")
client_id, client_secret = Mastodon.create_app(
    "perch-mastodon-py", api_base_url=URL, scopes=SCOPES, redirect_uris="urn:ietf:wg:oauth:2.0:oob"
)
assert client_id and client_secret

step("create_account (client credentials, then sign-up)")
alice_name, bob_name = f"alice_{SUFFIX}", f"bob_{SUFFIX}"
signup = client(client_id=client_id, client_secret=client_secret)
alice_signup_token = signup.create_account(
    alice_name, PASSWORD, f"{alice_name}@example.com", agreement=True, scopes=SCOPES
)
assert alice_signup_token
signup_b = client(client_id=client_id, client_secret=client_secret)
signup_b.create_account(bob_name, PASSWORD, f"{bob_name}@example.com", agreement=True, scopes=SCOPES)

step("log_in (password grant)")
alice = client(client_id=client_id, client_secret=client_secret)
alice.log_in(alice_name, PASSWORD, scopes=SCOPES, allow_http=True)
bob = client(client_id=client_id, client_secret=client_secret)
bob.log_in(f"{bob_name}@example.com", PASSWORD, scopes=SCOPES, allow_http=True)

step("account_verify_credentials")
me = alice.account_verify_credentials()
assert me.username == alice_name, me
assert me.acct == alice_name, me
assert me.source is not None and "note" in me.source, me
bob_me = bob.account_verify_credentials()
assert bob_me.username == bob_name
assert str(bob_me.id) != str(me.id)

step("auth_request_url / log_in(code=...) (the browser sign-in)")
# What an app does: send the user to the sign-in page, then trade the code
# it shows (the out-of-band redirect URI) for a token. The browser's part
# (filling in and sending the form) is played by requests.
OOB = "urn:ietf:wg:oauth:2.0:oob"
browser_app = client(client_id=client_id, client_secret=client_secret)
auth_url = browser_app.auth_request_url(redirect_uris=OOB, scopes=SCOPES, state="from-py")
signin = requests.get(auth_url, headers={"Accept": "text/html"}, timeout=30)
assert signin.status_code == 200 and "perch-mastodon-py" in signin.text, signin.text
fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', signin.text)
form = {name: html.unescape(value) for name, value in fields}
assert form["client_id"] == client_id and form["state"] == "from-py", form
form.update(username=alice_name, password=PASSWORD, decision="approve")
shown = requests.post(URL + "/oauth/authorize", data=form, headers={"Accept": "text/html"}, timeout=30)
found = re.search(r'<code id="code">([^<]+)</code>', shown.text)
assert shown.status_code == 200 and found, shown.text
browser_app.log_in(code=found.group(1), redirect_uri=OOB, scopes=SCOPES, allow_http=True)
assert browser_app.account_verify_credentials().id == me.id

step("account_update_credentials")
updated = alice.account_update_credentials(display_name="Alice Py", note="from mastodon.py")
assert updated.display_name == "Alice Py", updated

step("status_post")
status = alice.status_post("Hello from <Mastodon.py> & friends")
assert "Hello from &lt;Mastodon.py&gt; &amp; friends" in status.content, status.content
assert status.account.id == me.id
assert status.favourites_count == 0
second = alice.status_post("A second one", sensitive=True, spoiler_text="cw")
assert second.sensitive is True and second.spoiler_text == "cw", second
assert alice.status(status.id).id == status.id

step("timeline_public")
public = bob.timeline_public()
public_ids = [s.id for s in public]
assert public_ids[:2] == [second.id, status.id], public_ids
page = bob.timeline_public(limit=1)
assert [s.id for s in page] == [second.id]
older = bob.fetch_next(page)
assert older is not None and [s.id for s in older][:1] == [status.id], older

step("account_follow / account_unfollow")
rel = bob.account_follow(me.id)
assert rel.following is True, rel
assert bob.account(me.id).followers_count == 1
assert [a.id for a in bob.account_followers(me.id)] == [bob_me.id]
assert [a.id for a in alice.account_following(bob_me.id)] == [me.id]
rels = alice.account_relationships([bob_me.id])
assert rels[0].followed_by is True and rels[0].following is False, rels
rel = bob.account_unfollow(me.id)
assert rel.following is False, rel
assert alice.account(me.id).followers_count == 0
assert bob.account_followers(me.id) == []
bob.account_follow(me.id)

step("status_favourite / favourites")
fav = bob.status_favourite(status.id)
assert fav.favourited is True and fav.favourites_count == 1, fav
bob.status_favourite(second.id)
favs = bob.favourites()
assert [s.id for s in favs] == [second.id, status.id], [s.id for s in favs]
assert all(s.favourited for s in favs)
seen_by_alice = {s.id: s for s in alice.timeline_public()}
assert seen_by_alice[status.id].favourites_count == 1
assert seen_by_alice[status.id].favourited is False
unfav = bob.status_unfavourite(second.id)
assert unfav.favourited is False and unfav.favourites_count == 0, unfav
assert [s.id for s in bob.favourites()] == [status.id]

step("account_statuses")
mine = bob.account_statuses(me.id)
assert [s.id for s in mine] == [second.id, status.id], [s.id for s in mine]
assert mine[1].favourited is True and mine[1].favourites_count == 1
assert mine[0].account.display_name == "Alice Py"
assert alice.account(me.id).statuses_count == 2

step("status_delete")
alice.status_delete(second.id)
assert [s.id for s in bob.account_statuses(me.id)] == [status.id]
try:
    bob.status_delete(status.id)
    raise AssertionError("bob deleted alice's status")
except MastodonAPIError:
    pass

step("media_post, status_post(media_ids), avatar upload")
def png(width, height):
    """A small valid PNG (grey gradient), written by hand: no imaging library."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + bytes((x + y) % 256 for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

import io

media = alice.media_post(io.BytesIO(png(900, 300)), mime_type="image/png",
                         description="a grey ramp")
assert media.type == "image" and media.description == "a grey ramp", media
assert media.meta.original.width == 900 and media.meta.small.width == 640, media.meta
served = requests.get(URL + media.url[media.url.index("/media/"):])
assert served.status_code == 200 and served.headers["content-type"] == "image/png", served
with_media = alice.status_post("With a picture", media_ids=[media])
assert [m.id for m in with_media.media_attachments] == [media.id], with_media
assert alice.status(with_media.id).media_attachments[0].url == media.url
pictured = alice.account_update_credentials(avatar=io.BytesIO(png(64, 64)),
                                            avatar_mime_type="image/png")
assert "/media/" in pictured.avatar, pictured.avatar
alice.status_delete(with_media.id)

step("revoke_access_token (log out)")
alice.revoke_access_token()
try:
    alice.account_verify_credentials()
    raise AssertionError("a revoked token still works")
except MastodonUnauthorizedError:
    pass
except MastodonAPIError as e:
    assert "401" in str(e) or "invalid" in str(e).lower(), e
# Logging in again works, and bob was never affected.
again = client(client_id=client_id, client_secret=client_secret)
again.log_in(alice_name, PASSWORD, scopes=SCOPES, allow_http=True)
assert again.account_verify_credentials().id == me.id
assert bob.account_verify_credentials().id == bob_me.id

step("defaults: Mastodon.py's default scopes (read write follow push)")
# What a script that passes no scopes does: the app asks for the defaults,
# and the tokens must carry them (Mastodon.py checks).
d_id, d_secret = Mastodon.create_app("perch-defaults", api_base_url=URL)
dave = client(client_id=d_id, client_secret=d_secret)
dave.log_in(alice_name, PASSWORD, allow_http=True)
assert dave.account_verify_credentials().id == me.id
carol = client(client_id=d_id, client_secret=d_secret)
carol.create_account(f"carol_{SUFFIX}", PASSWORD, f"carol_{SUFFIX}@example.com", agreement=True)
assert carol.account_verify_credentials().username == f"carol_{SUFFIX}"

print("mastodon.py session ok")
