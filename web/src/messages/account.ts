/** What the app shell says of the account area (the tab, the links on the meters page, stale figures offline); the
 * account screens' own messages are in `accountScreens.ts`, loaded with them. */
export const fr = {
  "nav.account": "Compte",
  "contract.link": "Mon contrat",
  "consents.link": "Historique du consentement",
  "notifications.title": "Notifications",
  "preferences.title": "Préférences d'alertes et de bilans",
  "contract.title": "Mon contrat d'électricité",
  "consents.title": "Historique du consentement",
  "account.title": "Mon compte",
  "offline.notice": "Hors ligne : les chiffres affichés sont ceux enregistrés le {date}. Ils se mettront à jour au retour du réseau.",
  "offline.unreachable": "Serveur injoignable : les chiffres affichés sont ceux enregistrés le {date}.",
};

export const en: Record<keyof typeof fr, string> = {
  "nav.account": "Account",
  "contract.link": "My contract",
  "consents.link": "Consent history",
  "notifications.title": "Notifications",
  "preferences.title": "Alert and report preferences",
  "contract.title": "My electricity contract",
  "consents.title": "Consent history",
  "account.title": "My account",
  "offline.notice": "Offline: the figures shown are those saved on {date}. They will update when the network is back.",
  "offline.unreachable": "Server unreachable: the figures shown are those saved on {date}.",
};
