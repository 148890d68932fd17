/** Grenoble's own operators: GreenAlp (electricity, gas), CCIAG (district heat), Eau de Grenoble (water). */
export const fr = {
  "local.supplier": "Énergie et distributeur",
  "local.hint.greenalp_electricity": "Le numéro de point de livraison (14 chiffres) sur votre facture GreenAlp.",
  "local.hint.greenalp_gas": "Le numéro de point de comptage gaz (PCE : GI suivi de 6 chiffres, ou 14 chiffres) sur votre facture GreenAlp.",
  "local.hint.cciag_heat": "Votre sous-station et votre logement, comme sur votre facture CCIAG : par exemple SST0042-L017.",
  "local.hint.water": "Le numéro du compteur d’eau (6 à 20 lettres majuscules ou chiffres) sur votre facture.",
  "local.holder.legend": "Votre contrat {operator}",
  "local.holder.intro": "{operator} transmet vos données à MétroEnergies avec votre accord : nous lui envoyons la liste des compteurs consentis, et vos données s’affichent dès que son premier fichier nomme ce compteur au nom du même titulaire.",
  "local.contract_reference": "Référence du contrat",
  "local.contract_reference.hint": "Elle figure en haut de votre facture.",
  "local.holder_name": "Nom du titulaire du contrat",
  "local.awaiting_operator": "Consentement enregistré : {dso} le recevra dans sa prochaine liste ; vos données s’afficheront dès son premier fichier (sous quelques jours).",
  "local.holder_mismatch": "{dso} indique un autre titulaire pour ce compteur : vérifiez le nom inscrit sur votre facture, puis déclarez à nouveau le compteur.",
  "error.local_holder_required": "Indiquez la référence du contrat et le nom du titulaire figurant sur votre facture.",
};

export const en: Record<keyof typeof fr, string> = {
  "local.supplier": "Energy and distributor",
  "local.hint.greenalp_electricity": "The delivery point number (14 digits) on your GreenAlp bill.",
  "local.hint.greenalp_gas": "The gas metering point number (PCE: GI followed by 6 digits, or 14 digits) on your GreenAlp bill.",
  "local.hint.cciag_heat": "Your substation and dwelling, as on your CCIAG bill: for example SST0042-L017.",
  "local.hint.water": "The water meter number (6 to 20 capital letters or digits) on your bill.",
  "local.holder.legend": "Your {operator} contract",
  "local.holder.intro": "{operator} passes your data to MétroEnergies with your consent: we send it the list of consented meters, and your data shows once its first file names this meter under the same holder.",
  "local.contract_reference": "Contract reference",
  "local.contract_reference.hint": "It is at the top of your bill.",
  "local.holder_name": "Name of the contract holder",
  "local.awaiting_operator": "Consent recorded: {dso} will receive it in its next list; your data will show from its first file (within a few days).",
  "local.holder_mismatch": "{dso} gives another holder for this meter: check the name on your bill, then declare the meter again.",
  "error.local_holder_required": "Give the contract reference and the holder's name shown on your bill.",
};
