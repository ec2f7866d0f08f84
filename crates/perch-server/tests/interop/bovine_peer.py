"""An ActivityPub peer built on bovine (https://pypi.org/project/bovine/),
a Python ActivityPub library no one at Perch wrote, for the interop test
(tests/api/bovine.rs).

It serves one actor, `peer`, on 127.0.0.1:PORT: its actor document, its
WebFinger, and its inbox, where every POST must carry an HTTP Signature
that bovine's own checker verifies (fetching the signer's key from its
actor, as any server would). It also takes orders from the test:

  GET  /control/received  the activities its inbox took, verified, in order
  POST /control/send      {"inbox": URL, "activity": {...}, "signed": bool}
                          signs the activity with bovine and posts it;
                          answers {"status": the inbox's status code}

Usage: python3 bovine_peer.py PORT
"""

import asyncio
import json
import sys

from aiohttp import ClientSession, web
from bovine.clients.signed_http import SignedHttpClient, legacy_digest_method_uppercase
from bovine.crypto import build_validate_http_signature_raw, generate_rsa_public_private_key
from bovine.crypto.types import CryptographicIdentifier

PORT = int(sys.argv[1])
BASE = f"http://127.0.0.1:{PORT}"
ACTOR = f"{BASE}/users/peer"
PUBLIC, PRIVATE = generate_rsa_public_private_key()
ACTOR_DOC = {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
    "id": ACTOR,
    "type": "Person",
    "preferredUsername": "peer",
    "name": "Bovine Peer",
    "summary": "<p>an ActivityPub peer on <b>bovine</b></p>",
    "inbox": f"{ACTOR}/inbox",
    "outbox": f"{ACTOR}/outbox",
    "publicKey": {"id": f"{ACTOR}#main-key", "owner": ACTOR, "publicKeyPem": PUBLIC},
}
received = []


async def key_retriever(key_id):
    actor = key_id.split("#")[0]
    async with ClientSession() as session:
        async with session.get(actor, headers={"accept": "application/activity+json"}) as r:
            doc = await r.json(content_type=None)
    return CryptographicIdentifier.from_public_key(doc["publicKey"])


verify = build_validate_http_signature_raw(key_retriever)


async def actor(_request):
    return web.json_response(ACTOR_DOC, content_type="application/activity+json")


async def webfinger(request):
    if request.query.get("resource") != f"acct:peer@127.0.0.1:{PORT}":
        return web.Response(status=404)
    return web.json_response(
        {
            "subject": f"acct:peer@127.0.0.1:{PORT}",
            "links": [{"rel": "self", "type": "application/activity+json", "href": ACTOR}],
        },
        content_type="application/jrd+json",
    )


async def inbox(request):
    body = await request.read()

    async def get_body():
        return body

    owner = await verify(request.method, str(request.url), request.headers, get_body)
    if owner is None:
        return web.Response(status=401)
    activity = json.loads(body)
    received.append({"owner": owner, "activity": activity})
    return web.Response(status=202)


async def control_received(_request):
    return web.json_response(received)


async def control_send(request):
    order = await request.json()
    body = json.dumps(order["activity"])
    async with ClientSession() as session:
        if order.get("signed", True):
            client = SignedHttpClient(
                session, f"{ACTOR}#main-key", PRIVATE, digest_method=legacy_digest_method_uppercase
            )
            response = await client.post(order["inbox"], body)
        else:
            response = await session.post(
                order["inbox"], data=body, headers={"content-type": "application/activity+json"}
            )
        return web.json_response({"status": response.status, "body": await response.text()})


async def main():
    app = web.Application()
    app.router.add_get("/users/peer", actor)
    app.router.add_get("/.well-known/webfinger", webfinger)
    app.router.add_post("/users/peer/inbox", inbox)
    app.router.add_get("/control/received", control_received)
    app.router.add_post("/control/send", control_send)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", PORT).start()
    print("READY", flush=True)
    while True:
        await asyncio.sleep(3600)


asyncio.run(main())
