import { useState } from "react";
import { type Schemas } from "../api/client";
import { useI18n } from "../i18n";

type Building = Schemas["Building"];

/** The last twelve whole months, newest first, as YYYY-MM. */
export function lastMonths(): string[] {
  const now = new Date();
  return Array.from({ length: 12 }, (_, i) => {
    const d = new Date(now.getFullYear(), now.getMonth() - 1 - i, 1);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
  });
}

/** For each housing building of the organisation: its dwellings' monthly statements, as a printable page and a PDF. */
export default function LandlordStatements({ orgId, buildings }: { orgId: string; buildings: Building[] }) {
  const { t, lang } = useI18n();
  const months = lastMonths();
  const [month, setMonth] = useState(months[0]);
  const housing = buildings.filter((b) => b.use_type === "housing");
  if (housing.length === 0) return null;
  const label = (m: string) =>
    new Date(`${m}-01T12:00:00`).toLocaleDateString(lang === "en" ? "en-GB" : "fr-FR", { month: "long", year: "numeric" });
  return (
    <>
      <h2>{t("orgs.statements")}</h2>
      <p>{t("orgs.statements.intro")}</p>
      <label htmlFor="statements-month">{t("orgs.statements.month")}</label>{" "}
      <select id="statements-month" value={month} onChange={(e) => setMonth(e.target.value)}>
        {months.map((m) => <option key={m} value={m}>{label(m)}</option>)}
      </select>
      <ul className="list">
        {housing.map((b) => {
          const base = `/api/v1/orgs/${orgId}/buildings/${b.id}/statements?month=${month}`;
          return (
            <li key={b.id}>
              {b.name} —{" "}
              <a href={`${base}&format=html`} target="_blank" rel="noopener">{t("orgs.statements.html")}</a>
              {" · "}
              <a href={`${base}&format=pdf`} download>{t("orgs.statements.pdf")}</a>
            </li>
          );
        })}
      </ul>
    </>
  );
}
