"""Personal data held by the notify service (walked by the export and the erasure)."""
from __future__ import annotations

from metro.personal_data import PersonalTable
from notify.models import messages, notifications, preferences, recipients

PERSONAL_DATA: list[PersonalTable] = [
    PersonalTable(messages, "e-mails sent to the resident (alerts, reports, consent reminders), kept as the "
                  "record of what was sent", "12 months, or until the account is deleted", account_column="account_id",
                  hidden=("inline_png",)),
    PersonalTable(notifications, "in-app notifications", "12 months, or until the account is deleted",
                  account_column="account_id"),
    PersonalTable(preferences, "the resident's notification choices", "until the account is deleted",
                  account_column="account_id"),
    PersonalTable(recipients, "the address and language to write to, copied from the account",
                  "until the account is deleted", account_column="account_id"),
]
