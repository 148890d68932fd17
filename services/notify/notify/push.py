"""Web Push (RFC 8030, 8291, 8292): the browsers a resident subscribed, and the worker that pushes their alerts,
encrypted for each browser and signed with the service's VAPID key, through pywebpush.

Guarantee: at least once. A push is recorded with its alert (unique dedup key) and sent by the worker, which
holds the row locked while it talks to the push service; a gone subscription (404, 410) is dropped."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import uuid
from urllib.parse import urlsplit

import aiohttp
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async
from sqlalchemy.ext.asyncio import AsyncSession

from metro.db import Database
from metro.errors import AppError, NotFound
from metro.schemas.notify import PushPublicKey, PushSubscriptionIn, PushSubscriptionView
from metro.workers import repeat
from notify import repository
from notify.sender import backoff

log = logging.getLogger(__name__)

_LOCAL_SEED = b"metroenergies local VAPID key"


def local_vapid_pem() -> str:
    """Local mode's key, derived from a constant like the services' local keys: anyone can derive it."""
    order = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)
    secret = int.from_bytes(hashlib.sha256(_LOCAL_SEED).digest()) % (order - 1) + 1
    key = ec.derive_private_key(secret, ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def vapid_pem(settings) -> str | None:
    """The VAPID private key in force: the settings', else local mode's; None outside local mode without one
    (push is then not offered)."""
    if settings.vapid_private_key:
        return settings.vapid_private_key
    return local_vapid_pem() if settings.local_mode else None


def check_vapid_key(settings) -> None:
    pem = settings.vapid_private_key
    if not pem:
        return
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("vapid_private_key must be a P-256 (prime256v1) EC private key in PEM")
    if not settings.local_mode and pem.strip() == local_vapid_pem().strip():
        raise ValueError("vapid_private_key is the local-mode key, derivable by anyone: refused outside local mode")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_key(settings) -> PushPublicKey:
    pem = vapid_pem(settings)
    if pem is None:
        raise NotFound("push notifications are not offered here", code="push_unavailable")
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return PushPublicKey(public_key=_b64(point))


def check_endpoint(settings, endpoint: str) -> None:
    """The service posts to this address: outside local mode only https to a known push service, so that an
    account cannot make it call anything else."""
    url = urlsplit(endpoint)
    host = (url.hostname or "").lower()
    if settings.local_mode and url.scheme in ("http", "https") and host:
        return
    allowed = url.scheme == "https" and any(host == h or host.endswith("." + h) for h in settings.push_services)
    if not allowed:
        raise AppError("this push address is not one of a known push service", code="push_endpoint_refused",
                       status_code=422)


def _unpadded_length(value: str) -> int:
    return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


async def subscribe(session: AsyncSession, settings, account_id: uuid.UUID, body: PushSubscriptionIn,
                    user_agent: str | None) -> PushSubscriptionView:
    check_endpoint(settings, body.endpoint)
    if _unpadded_length(body.keys.p256dh) != 65 or _unpadded_length(body.keys.auth) != 16:
        raise AppError("the subscription's keys are not a P-256 key and a 16-byte secret",
                       code="push_keys_invalid", status_code=422)
    row = await repository.upsert_push_subscription(session, {
        "id": uuid.uuid4(), "account_id": account_id, "endpoint": body.endpoint, "p256dh": body.keys.p256dh,
        "auth": body.keys.auth, "user_agent": user_agent})
    return PushSubscriptionView.model_validate(row._mapping)


async def unsubscribe(session: AsyncSession, account_id: uuid.UUID, subscription_id: uuid.UUID) -> None:
    if not await repository.delete_push_subscription(session, account_id, subscription_id):
        raise NotFound("no such push subscription", code="push_subscription_not_found")


async def record(session: AsyncSession, account_id: uuid.UUID, dedup_key: str, title: str, body: str,
                 link: str, not_before: dt.datetime) -> None:
    """One push per subscribed browser of the account; a replay records nothing."""
    for sub in await repository.account_push_subscriptions(session, account_id):
        await repository.insert_push_message(session, {
            "id": uuid.uuid4(), "account_id": account_id, "subscription_id": sub.id,
            "dedup_key": f"{dedup_key}:push:{sub.id}", "payload": {"title": title, "body": body, "link": link},
            "next_attempt_at": not_before})


async def send_due(db: Database, settings, http: aiohttp.ClientSession, vapid: Vapid) -> int:
    """Sends one batch of due pushes; returns how many were due."""
    async with db.session() as session, session.begin():
        rows = await repository.claim_push_messages(session, settings.send_batch)
        for r in rows:
            info = {"endpoint": r.endpoint, "keys": {"p256dh": r.p256dh, "auth": r.auth}}
            try:
                await webpush_async(info, data=orjson.dumps(r.payload).decode(), vapid_private_key=vapid,
                                    vapid_claims={"sub": settings.vapid_subject}, ttl=settings.push_ttl_seconds,
                                    timeout=aiohttp.ClientTimeout(total=settings.push_timeout),
                                    aiohttp_session=http)
            except (WebPushException, aiohttp.ClientError, TimeoutError) as exc:
                status = exc.status_code if isinstance(exc, WebPushException) else None
                if status in (404, 410):  # the browser unsubscribed or the subscription expired
                    await repository.delete_push_subscription(session, r.account_id, r.subscription_id)
                    continue
                failed = r.attempts + 1 >= settings.send_max_attempts or (status is not None and 400 <= status < 500
                                                                         and status != 429)
                at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=backoff(
                    r.attempts + 1, settings.send_backoff_seconds, settings.send_backoff_max_seconds))
                await repository.push_outcome(session, r.id, "failed" if failed else "pending", str(exc)[:500], at)
                log.warning("push not sent", extra={"status": status, "attempts": r.attempts + 1})
                continue
            await repository.push_outcome(session, r.id, "sent", None, None)
    return len(rows)


async def run(rt) -> None:
    settings = rt.settings
    pem = vapid_pem(settings)
    if pem is None:
        return
    vapid = Vapid.from_pem(pem.encode())
    async with aiohttp.ClientSession() as http:
        await repeat(rt.stop, "push sender", lambda: send_due(rt.db, settings, http, vapid),
                     settings.send_idle_interval, while_busy=True)
