"""Public routes served by the notify service: preferences, messages, in-app notifications, unsubscribe."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from gateway.auth import User
from gateway.service import user_agent_summary
from metro.errors import AppError, Forbidden, NotFound, error_responses
from metro.schemas.notify import (MessageView, NotificationPreferences, NotificationView, PreferencesView,
                                  PushPublicKey, PushSubscriptionIn, PushSubscriptionView, UnsubscribeResult)

router = APIRouter(prefix="/api/v1", tags=["notifications"])


def _notify(request: Request):
    return request.app.state.runtime.services


@router.get("/me/preferences", response_model=PreferencesView)
async def get_preferences(who: User, request: Request):
    return await _notify(request).json("notify", "GET", "/internal/preferences", principal=who.principal)


@router.put("/me/preferences", response_model=PreferencesView, responses=error_responses(AppError))
async def put_preferences(body: NotificationPreferences, who: User, request: Request):
    """422 `invalid_quiet_hours` when quiet hours end when they start."""
    return await _notify(request).json("notify", "PUT", "/internal/preferences", principal=who.principal,
                                       json=body.model_dump(mode="json"))


@router.post("/me/preferences/undo-unsubscribe", response_model=PreferencesView,
             responses=error_responses(NotFound))
async def undo_unsubscribe(who: User, request: Request):
    """Restores the preferences as they were before the last one-click unsubscribe."""
    return await _notify(request).json("notify", "POST", "/internal/preferences/undo-unsubscribe",
                                       principal=who.principal)


@router.get("/me/messages", response_model=list[MessageView])
async def messages(who: User, request: Request):
    return await _notify(request).json("notify", "GET", "/internal/messages", principal=who.principal)


@router.get("/me/notifications", response_model=list[NotificationView])
async def notifications(who: User, request: Request):
    return await _notify(request).json("notify", "GET", "/internal/notifications", principal=who.principal)


@router.post("/me/notifications/{notification_id}/read", response_model=NotificationView,
             responses=error_responses(NotFound))
async def read_notification(notification_id: uuid.UUID, who: User, request: Request):
    return await _notify(request).json("notify", "POST", f"/internal/notifications/{notification_id}/read",
                                       principal=who.principal)


@router.get("/push/public-key", response_model=PushPublicKey, responses=error_responses(NotFound))
async def push_public_key(request: Request):
    """The key a browser subscribes with (`pushManager.subscribe({applicationServerKey})`); 404
    `push_unavailable` where no VAPID key is configured."""
    return await _notify(request).json("notify", "GET", "/internal/push/public-key")


@router.get("/me/push-subscriptions", response_model=list[PushSubscriptionView])
async def push_subscriptions(who: User, request: Request):
    """The browsers that receive the alerts chosen under `push` in the preferences."""
    return await _notify(request).json("notify", "GET", "/internal/push-subscriptions", principal=who.principal)


@router.post("/me/push-subscriptions", response_model=PushSubscriptionView, status_code=201,
             responses=error_responses(AppError))
async def subscribe_push(body: PushSubscriptionIn, who: User, request: Request):
    """Registers this browser's push subscription (`PushSubscription.toJSON()`); subscribing the same endpoint
    again replaces it. 422 `push_endpoint_refused` for an address that is not a known push service's,
    `push_keys_invalid` for keys of the wrong size. Alerts are pushed only for the kinds listed under `push` in
    the preferences (none by default)."""
    agent = user_agent_summary(request.headers.get("user-agent"))
    return await _notify(request).json("notify", "POST", "/internal/push-subscriptions", principal=who.principal,
                                       json=body.model_dump(mode="json"),
                                       headers={"x-metro-user-agent": agent[:120]} if agent else {})


@router.delete("/me/push-subscriptions/{subscription_id}", status_code=204, responses=error_responses(NotFound))
async def unsubscribe_push(subscription_id: uuid.UUID, who: User, request: Request):
    await _notify(request).send("notify", "DELETE", f"/internal/push-subscriptions/{subscription_id}",
                                principal=who.principal)


# The notify service's signed token: base64url claims, a dot, and a 20-byte base64url HMAC.
UnsubscribeToken = Annotated[str, Query(min_length=30, max_length=500, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{27}$")]


@router.get("/unsubscribe", response_model=UnsubscribeResult, responses=error_responses(Forbidden))
async def unsubscribe(token: UnsubscribeToken, request: Request):
    """One click from an e-mail, no login: the signed token says who and what."""
    return await _notify(request).json("notify", "POST", "/internal/unsubscribe", json={"token": token})


@router.post("/unsubscribe", response_model=UnsubscribeResult, responses=error_responses(Forbidden))
async def unsubscribe_one_click(token: UnsubscribeToken, request: Request):
    """RFC 8058 one-click: what mail clients send for the List-Unsubscribe-Post header."""
    return await _notify(request).json("notify", "POST", "/internal/unsubscribe", json={"token": token})
