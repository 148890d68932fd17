import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { FormError } from "./Form";
import { useI18n } from "../i18n";

const WEEKS = [1, 2, 4, 12] as const;

/** Excess tracking of an organisation: per building, the meters whose consumption was well above their own
 * baseline in the last weeks (what the Monday digest e-mails the members). */
export default function OrgExcess({ id }: { id: string }) {
  const { t, lang } = useI18n();
  const [weeks, setWeeks] = useState<number>(4);
  const excess = useQuery({
    queryKey: ["org", id, "excess", weeks],
    queryFn: () => unwrap(api.GET("/api/v1/orgs/{org_id}/excess", { params: { path: { org_id: id }, query: { weeks } } })),
  });
  const locale = lang === "fr" ? "fr-FR" : "en-GB";
  const number = (n: number) => n.toLocaleString(locale, { maximumFractionDigits: 1 });
  const day = (d: string) => new Date(`${d}T12:00:00`).toLocaleDateString(locale, { day: "numeric", month: "long" });
  return (
    <section aria-labelledby="org-excess-title">
      <h2 id="org-excess-title">{t("orgs.excess")}</h2>
      <p>{t("orgs.excess.intro")}</p>
      <label htmlFor="org-excess-weeks">{t("orgs.excess.weeks")}</label>{" "}
      <select id="org-excess-weeks" value={weeks} onChange={(e) => setWeeks(Number(e.target.value))}>
        {WEEKS.map((n) => <option key={n} value={n}>{t("orgs.excess.weeks_n", { n })}</option>)}
      </select>
      {excess.error && <FormError error={excess.error} />}
      {excess.data && excess.data.buildings.length === 0 && <p>{t("orgs.excess.none")}</p>}
      {excess.data?.buildings.map((b) => (
        <article key={b.building_id}>
          <h3>
            {b.name}{b.site ? ` (${b.site})` : ""} — {t("orgs.excess.building_total", { kwh: number(b.excess_kwh) })}
            {b.excess_eur != null && `, ${t("orgs.excess.eur", { eur: number(b.excess_eur) })}`}
          </h3>
          <ul className="list">
            {b.meters.map((m) => m.episodes.map((e) => (
              <li key={`${m.meter_id}-${e.start}-${e.kind}`}>
                <strong>{m.label || m.identifier}</strong>{" "}
                {t("orgs.excess.episode", { start: day(e.start), end: day(e.end), observed: number(e.observed_kwh),
                  expected: number(e.expected_kwh), excess: number(e.excess_kwh) })}
                {e.excess_eur != null && ` (${t("orgs.excess.eur", { eur: number(e.excess_eur) })})`}
              </li>
            )))}
          </ul>
        </article>
      ))}
    </section>
  );
}
