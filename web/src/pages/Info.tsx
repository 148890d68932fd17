import type { ReactNode } from "react";
import { useI18n, type Lang } from "../i18n";
import { INFO_PAGES } from "./infoPages";

const CONTACT = "contact@metroenergies.example.org";
const mail = <a href={`mailto:${CONTACT}`}>{CONTACT}</a>;

const BODIES: Record<string, Record<Lang, ReactNode>> = {
  "/accessibility": {
    fr: (
      <>
        <p>
          MétroEnergies s'engage à rendre son application accessible, conformément à l'article 47 de la loi
          n° 2005-102 du 11 février 2005, selon le référentiel général d'amélioration de l'accessibilité (RGAA 4.1).
        </p>
        <h2>État de conformité</h2>
        <p>L'application est partiellement conforme au RGAA 4.1 : aucun audit complet n'a encore été réalisé.</p>
        <h2>Contenus non accessibles</h2>
        <p>Les graphiques ont un tableau des valeurs équivalent ; certains écrans n'ont pas encore été audités.</p>
        <h2>Retour d'information et contact</h2>
        <p>Si vous ne pouvez pas accéder à un contenu ou à un service, écrivez-nous à {mail}.</p>
        <h2>Voies de recours</h2>
        <p>
          Si vous n'obtenez pas de réponse, vous pouvez saisir le Défenseur des droits (formulaire en ligne,
          délégué de votre région, ou courrier gratuit : Défenseur des droits, Libre réponse 71120, 75342 Paris
          CEDEX 07).
        </p>
      </>
    ),
    en: (
      <>
        <p>
          MétroEnergies aims to make its application accessible, as French law (article 47 of law 2005-102)
          requires, following the RGAA 4.1 accessibility framework.
        </p>
        <h2>Compliance status</h2>
        <p>The application is partially compliant with RGAA 4.1: no full audit has been carried out yet.</p>
        <h2>Content that is not accessible</h2>
        <p>Charts come with an equivalent table of values; some screens have not been audited yet.</p>
        <h2>Feedback and contact</h2>
        <p>If you cannot use some content or service, write to us at {mail}.</p>
        <h2>Enforcement</h2>
        <p>If you get no answer, you can refer the matter to the Défenseur des droits (the French ombudsman).</p>
      </>
    ),
  },
  "/legal": {
    fr: (
      <>
        <h2>Éditeur</h2>
        <p>MétroEnergies, service public métropolitain de suivi des consommations d'énergie. Contact : {mail}.</p>
        <h2>Hébergement</h2>
        <p>Les données sont hébergées en France, sur l'infrastructure de la métropole.</p>
        <h2>Données personnelles</h2>
        <p>
          Ce que nous collectons, pourquoi et combien de temps figure dans les conditions d'utilisation. Vous
          pouvez consulter, télécharger et supprimer vos données depuis « Mes données ».
        </p>
      </>
    ),
    en: (
      <>
        <h2>Publisher</h2>
        <p>MétroEnergies, the metropolitan public service for following energy use. Contact: {mail}.</p>
        <h2>Hosting</h2>
        <p>Data is hosted in France, on the metropolitan authority's infrastructure.</p>
        <h2>Personal data</h2>
        <p>
          What we collect, why and for how long is set out in the terms of use. You can view, download and
          delete your data from "My data".
        </p>
      </>
    ),
  },
  "/contact": {
    fr: (
      <p>
        Une question sur vos données, un compteur ou l'accessibilité ? Écrivez-nous à {mail} : nous répondons
        sous cinq jours ouvrés.
      </p>
    ),
    en: (
      <p>
        A question about your data, a meter or accessibility? Write to us at {mail}: we answer within five
        working days.
      </p>
    ),
  },
};

export default function InfoPage({ path }: { path: string }) {
  const { t, lang } = useI18n();
  return (
    <div className="card info">
      <h1>{t(INFO_PAGES[path].title)}</h1>
      {BODIES[path][lang]}
    </div>
  );
}
