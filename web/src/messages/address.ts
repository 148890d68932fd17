/** The address autocomplete of the dwelling form (components/AddressSearch), French first. */
export const fr = {
  "address.search": "Rechercher mon adresse",
  "address.search.hint": "Tapez le numéro et la rue, ou la commune, puis choisissez dans la liste : les champs ci-dessous se remplissent. Vous pouvez aussi les remplir vous-même.",
  "address.suggestions": "Adresses proposées",
  "address.found": "{n} adresse(s) proposée(s) : flèches haut et bas pour choisir, Entrée pour valider.",
  "address.none": "Aucune adresse trouvée : remplissez les champs ci-dessous.",
  "address.unavailable": "La recherche d'adresse ne répond pas : remplissez les champs ci-dessous.",
  "error.address_query_too_short": "Tapez au moins 3 lettres ou chiffres.",
};

export const en: Record<keyof typeof fr, string> = {
  "address.search": "Find my address",
  "address.search.hint": "Type the number and street, or the town, then pick from the list: the fields below are filled in. You can also fill them in yourself.",
  "address.suggestions": "Suggested addresses",
  "address.found": "{n} address(es) suggested: up and down arrows to choose, Enter to confirm.",
  "address.none": "No address found: fill in the fields below.",
  "address.unavailable": "The address search does not answer: fill in the fields below.",
  "error.address_query_too_short": "Type at least 3 letters or digits.",
};
