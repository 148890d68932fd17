"""Personal data held by the notify service (walked by the export and the erasure)."""
from __future__ import annotations

from metro.personal_data import PersonalTable
from notify import repository
from notify.models import (messages, notifications, org_members, preferences, push_messages, push_subscriptions,
                           recipients)

PERSONAL_DATA: list[PersonalTable] = [
    PersonalTable(messages, "e-mails sent to the resident (alerts, reports, consent reminders, account links "
                  "without their token), kept as the record of what was sent",
                  "12 months, or until the account is deleted", account_column="account_id",
                  hidden=("inline_png", "secret")),
    PersonalTable(notifications, "in-app notifications", "12 months, or until the account is deleted",
                  account_column="account_id"),
    PersonalTable(preferences, "the resident's notification choices", "until the account is deleted",
                  account_column="account_id"),
    PersonalTable(push_messages, "alerts pushed to the resident's browsers", "12 months, or until the account is "
                  "deleted", account_column="account_id"),
    PersonalTable(push_subscriptions, "the browsers allowed to receive alerts (push service address and keys)",
                  "until the browser or the resident ends it, or the account is deleted",
                  account_column="account_id", hidden=("p256dh", "auth")),
    PersonalTable(org_members, "the organisations the member hears the weekly excess digest of, copied from "
                  "the organisation's membership", "until the member leaves or the account is deleted",
                  account_column="account_id"),
    PersonalTable(recipients, "the address and language to write to, copied from the account",
                  "until the account is deleted", account_column="account_id"),
]


async def before_erase(session, account_id, meter_ids) -> None:
    # An alert being recorded for the account finishes first, and its rows go with the rest.
    await repository.lock_account(session, account_id)


async def after_erase(session, account_id, meter_ids) -> None:
    await repository.mark_erased(session, account_id)
