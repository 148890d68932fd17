"""ADICT result codes and messages (grdf-adict.md §5).

GDA endpoints answer 10-digit `code_statut_traitement`; data endpoints 7-digit `statut_restitution.code`.
Where no public source gives the code of a documented message, the sandbox picks a stable one that does
not collide with a known code; those are grouped under "sandbox choice".
"""
from __future__ import annotations

OK = ("0000000000", "L'opération s'est déroulée avec succès.")
PENDING = ("0000000002", "La demande d'accès est en attente de la validation du titulaire du PCE.")
TECHNICAL = ("2000000001", "Une erreur technique est survenue.")
BAD_FORM = ("1000000000", "La forme de la requête est incorrecte.")
UNAUTHORISED = ("1000000001", "Une erreur technique est survenue.")
NO_RIGHT_FOUND = ("1000000001", "Aucun droit d'accès trouvé.")
RIGHT_EXISTS = ("1000000003", "Un droit d'accès existe déjà.")
SUPPLY_ENDED = ("1000000004", "Le contrat de fourniture de gaz est échu.")
POSTCODE_MISMATCH = ("1000000005", "Le code postal ne correspond pas à l'adresse du PCE.")
UNKNOWN_PCE = ("1000000006", "Le PCE est inconnu.")
INCOHERENT = ("1000000022", "La demande d'accès est incohérente.")
EMAIL_FORMAT = ("1000000024", "Le format du courriel du titulaire est incorrect.")
NAME_MISSING = ("1000000026", "Le nom ou la raison sociale du titulaire doit être renseigné.")
POSTCODE_MISSING = ("1000000027", "Le code postal n'est pas renseigné.")
EMAIL_MISSING = ("1000000028", "Le courriel du titulaire n'est pas renseigné.")
PERIM_CONTRACTUAL = ("1000000031",
                     "Le périmètre d'accès aux données contractuelles doit être renseigné à Vrai ou Faux.")
POSTCODE_FORMAT = ("1000000036", "Le format du code postal est incorrect.")
PCE_FORMAT = ("1000000037", "Le format du PCE est incorrect.")
NAME_BOTH = ("1000000039", "Seul le nom ou la raison sociale du titulaire doit être renseigné.")
PERIM_CONSO_START = ("1000000041", "La date de début du périmètre relatif aux données de consommation est "
                                   "obligatoire et doit être renseignée au format YYYY-MM-DD.")
PERIM_INJ_END = ("1000000048", "La date de fin du périmètre relatif aux données d'injection est obligatoire "
                               "et doit être renseignée au format YYYY-MM-DD.")
ROLE_MISSING = ("2000000006", "Votre rôle dans la demande d'accès n'est pas renseigné.")
PROOF_NOT_ASKED = ("2000000003", "GRDF ne demande pas de preuve sur ce droit d'accès.")

# sandbox choice: documented messages without a documented code
PHONE_FORMAT = ("1000000025", "Le numéro de téléphone mobile du titulaire renseigné n'est pas correctement "
                              "formaté.")
ACCESS_START_FORMAT = ("1000000029", "La date de début du droit d’accès est obligatoire et doit être renseignée "
                                     "au format YYYY-MM-DD.")
ACCESS_END_FORMAT = ("1000000030", "La date de fin du droit d’accès est obligatoire et doit être renseignée au "
                                   "format YYYY-MM-DD.")
PERIM_TECHNICAL = ("1000000032",
                   "Le périmètre d'accès aux données techniques doit être renseigné à Vrai ou Faux.")
PERIM_INFORMATIVE = ("1000000033",
                     "Le périmètre d'accès aux données informatives doit être renseigné à Vrai ou Faux.")
PERIM_PUBLISHED = ("1000000034", "Le périmètre d'accès aux données publiées doit être renseigné à Vrai ou Faux.")
PERIM_CONSO_END = ("1000000042", "La date de fin du périmètre relatif aux données de consommation est "
                                 "obligatoire et doit être renseignée au format YYYY-MM-DD.")
PENDING_EXISTS = ("1000000021", "La demande d'accès est en attente de la validation du titulaire du PCE.")
ACCESS_END_PAST = ("1000000022", "La date de fin du droit d’accès doit être supérieure ou égale à la date du jour.")
ACCESS_START_FUTURE = ("1000000022",
                       "La date de début du droit d’accès doit être inférieure ou égale à la date du jour.")
PERIM_START_FUTURE = ("1000000022", "La date de début du périmètre relatif aux données de consommation doit "
                                    "être inférieure ou égale à la date du jour.")
PERIM_END_BEFORE_START = ("1000000022", "La date de fin du périmètre relatif aux données de consommation doit "
                                        "être supérieure ou égale à la date de début du périmètre relatif aux "
                                        "données de consommation.")
PERIM_END_AFTER_ACCESS = ("1000000022", " La date de fin du périmètre relatif aux données de consommation doit "
                                        "être inférieure ou égale à la date de fin du droit d’accès.")
HOLDER_MISMATCH = INCOHERENT

# data endpoints (statut_restitution)
D_MOVED = ("1000000", "Le client semble avoir déménagé et n'est plus titulaire de ce PCE, vous ne pouvez donc "
                      "plus accéder à ses données.")
D_EXPIRED = ("1000001", "Votre droit d’accès sur ce PCE a expiré. Pour continuer à accéder aux données, vous "
                        "devez faire une nouvelle demande d'accès et, le cas échéant, renouveler le "
                        "consentement du titulaire.")
D_NOT_AUTHORISED = ("1000002", "Vous n'êtes pas autorisé à consulter les données de ce PCE.")
D_PCE_FORMAT = ("1000005", "L'identifiant du PCE n'est pas correctement formaté (GI+6 chiffres ou 14 chiffres).")
D_NO_DATA = ("1000008", "Il n'y a pas de données correspondant à ce PCE sur la période demandée.")
D_PERIM_PUBLISHED = ("1000009", "Le périmètre des données auxquelles vous avez accès pour ce PCE ne couvre pas "
                                "les données de consommations publiées.")
D_PERIM_INFORMATIVE = ("1000010", "Le périmètre des données auxquelles vous avez accès pour ce PCE ne couvre "
                                  "pas les données de consommations informatives.")
D_HOLDER_REVOKED = ("1000014", "Le client titulaire a révoqué son consentement, vous ne pouvez plus accéder "
                               "aux données de ce PCE.")
D_SERVER = ("2000000", "Le serveur a rencontré une erreur lors de l’exécution de la requête, veuillez "
                       "réessayer ultérieurement.")
D_PARTIAL = ("2000100", "Le serveur a rencontré une erreur lors de l'exécution de la requête. Veuillez retenter "
                        "votre appel sur la période mentionnée ci-dessus.")
# sandbox choice
D_OBSOLETE = ("1000003", "GRDF a passé le droit d'accès à l'état obsolète.")
D_TIERS_REVOKED = ("1000012", "Vous avez révoqué votre droit d’accès aux données de ce PCE.")
D_PERIM_CONTRACTUAL = ("1000015", "Le périmètre des données auxquelles vous avez accès pour ce PCE ne couvre "
                                  "pas les données contractuelles.")
D_PERIM_TECHNICAL = ("1000016", "Le périmètre des données auxquelles vous avez accès pour ce PCE ne couvre pas "
                                "les données techniques.")
D_BAD_FILTER = ("1000017", "Le filtre spécifié n'est pas valide.")
D_DATE_FORMAT = ("1000020", "Le format du paramètre 'date_debut' et / ou 'date_fin' n’est pas au format "
                            "YYYY-MM-DD.")
D_PERIOD_FORMAT = ("1000025", "Le format du paramètre 'periode' n’est pas à un format attendu valide (YYYY, "
                              "YYYY-NN, YYYY-WNN, YYYY-NNN, PN-YYYY, PN-YYYY-NN, PN-YYYY-WNN, PN-YYYY-WMM-N).")
D_BOTH_MODES = ("1000021", "Seul le paramètre 'periode' ou les paramètres 'date_debut' / 'date_fin' doivent être "
                           "renseignés.")
D_NO_MODE = ("1000021", "Le paramètre 'periode' ou les paramètres 'date_debut' / 'date_fin' doivent être "
                        "renseignés.")
D_START_MISSING = ("1000021", "Le paramètre 'date_debut' est obligatoire et doit être renseigné au format "
                              "YYYY-MM-DD.")
D_END_MISSING = ("1000021", "Le paramètre 'date_fin' est obligatoire et doit être renseigné au format YYYY-MM-DD.")
D_START_AFTER_END = ("1000022", "La date de début renseignée doit être antérieure à la date de fin.")
D_END_FUTURE = ("1000023", "Le paramètre 'date_fin' doit être inférieur ou égal à la date du jour.")
D_HISTORY = {3: ("1000024", "Le paramètre 'date_debut' ne doit pas être antérieur à la date du jour - 3 ans."),
             5: ("1000024", "Le paramètre 'date_debut' ne doit pas être antérieur à la date du jour - 5 ans.")}
