"""Personal data held by the gateway (identity). Erased last, by the deletion saga itself."""
from gateway.models import account_tokens, accounts, action_commitments, news, sessions, terms_acceptances
from metro.personal_data import PersonalTable, Pseudonymised

PERSONAL_DATA = [
    PersonalTable(action_commitments, "the actions you committed to, to show their measured effect",
                  "until the account is deleted", account_column="account_id"),
    PersonalTable(news, "the news items you wrote (adviser or administrator), shown to residents while valid",
                  "kept as published content; when the account is deleted, its author becomes a pseudonym",
                  account_column="author_id", pseudonymised=Pseudonymised("author_id", lambda table, tag: {})),
    PersonalTable(terms_acceptances, "proof of which terms of use were accepted and when",
                  "until the account is deleted", account_column="account_id"),
    PersonalTable(sessions, "keeping you logged in; script tokens you created", "until they expire or you log out",
                  account_column="account_id", hidden=("token_hash", "csrf_token")),
    PersonalTable(account_tokens, "links sent by e-mail to verify an address or reset the password, and the "
                  "address each was sent to", "until used, or a day after they expire",
                  account_column="account_id", hidden=("token_hash",)),
    PersonalTable(accounts, "logging in, and sending the alerts and reports you ask for",
                  "until the account is deleted", account_column="id", hidden=("password_hash",)),
]
