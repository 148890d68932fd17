"""Internal routes of the notify service (called by the gateway with a service token)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from metro.db import DbSession
from metro.errors import NotFound
from metro.schemas.notify import (AccountMail, MessageView, NotificationPreferences, NotificationView,
                                  PreferencesView, PushPublicKey, PushSubscriptionIn, PushSubscriptionView,
                                  UnsubscribeRequest, UnsubscribeResult)
from metro.service_auth import Caller, acting_account, caller
from notify import push, repository, service

router = APIRouter(prefix="/internal")
Account = Annotated[uuid.UUID, Depends(acting_account("gateway"))]
Gateway = Annotated[Caller, Depends(caller("gateway"))]
Session = DbSession

UNSUBSCRIBED = {
    "reports": {"fr": "Vous ne recevrez plus les bilans par e-mail.", "en": "You will no longer receive reports by e-mail."},
    "anomaly": {"fr": "Vous ne recevrez plus les alertes de consommation inhabituelle par e-mail.",
                "en": "You will no longer receive unusual-consumption alerts by e-mail."},
    "threshold": {"fr": "Vous ne recevrez plus les alertes de seuil par e-mail.",
                  "en": "You will no longer receive threshold alerts by e-mail."},
    "consent": {"fr": "Vous ne recevrez plus les rappels de consentement par e-mail.",
                "en": "You will no longer receive consent reminders by e-mail."},
}


@router.get("/preferences", response_model=PreferencesView)
async def get_preferences(account: Account, session: Session):
    return await service.get_preferences(session, account)


@router.put("/preferences", response_model=PreferencesView)
async def put_preferences(body: NotificationPreferences, account: Account, session: Session):
    return await service.put_preferences(session, account, body)


@router.post("/preferences/undo-unsubscribe", response_model=PreferencesView)
async def undo_unsubscribe(account: Account, session: Session):
    return await service.undo_unsubscribe(session, account)


@router.get("/messages", response_model=list[MessageView])
async def messages(account: Account, session: Session):
    return [MessageView.model_validate(r._mapping) for r in await repository.list_messages(session, account)]


@router.get("/notifications", response_model=list[NotificationView])
async def notifications(account: Account, session: Session):
    return [NotificationView.model_validate(r._mapping) for r in await repository.list_notifications(session, account)]


@router.post("/notifications/{notification_id}/read", response_model=NotificationView)
async def read(notification_id: uuid.UUID, account: Account, session: Session):
    row = await repository.mark_read(session, account, notification_id)
    if row is None:
        raise NotFound("no such notification", code="notification_not_found")
    return NotificationView.model_validate(row._mapping)


@router.post("/unsubscribe", response_model=UnsubscribeResult)
async def unsubscribe(body: UnsubscribeRequest, _: Gateway, session: Session):
    scope, lang = await service.unsubscribe(session, body.token)
    return UnsubscribeResult(scope=scope, detail=UNSUBSCRIBED[scope][lang])


@router.post("/account-mails", status_code=202)
async def account_mail(body: AccountMail, _: Gateway, session: Session):
    """The gateway's e-mails about an account: address verification, password reset, notices."""
    await service.account_mail(session, body)


@router.get("/push/public-key", response_model=PushPublicKey)
async def push_public_key(_: Gateway, request: Request):
    return push.public_key(request.app.state.settings)


@router.get("/push-subscriptions", response_model=list[PushSubscriptionView])
async def push_subscriptions(account: Account, session: Session):
    return [PushSubscriptionView.model_validate(r._mapping)
            for r in await repository.account_push_subscriptions(session, account)]


@router.post("/push-subscriptions", response_model=PushSubscriptionView, status_code=201)
async def subscribe(body: PushSubscriptionIn, account: Account, request: Request, session: Session,
                    x_metro_user_agent: Annotated[str | None, Header(max_length=120)] = None):
    return await push.subscribe(session, request.app.state.settings, account, body, x_metro_user_agent)


@router.delete("/push-subscriptions/{subscription_id}", status_code=204)
async def unsubscribe_push(subscription_id: uuid.UUID, account: Account, session: Session):
    await push.unsubscribe(session, account, subscription_id)
