import { lazy, Suspense, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { FormError } from "../components/Form";
import { useI18n } from "../i18n";
import * as messages from "../messages/orgs";
import { addMessages } from "../messages";
import RenovationProgrammes from "../components/RenovationProgrammes";
import { ScrollRegion } from "../components/ScrollRegion";
import { dateTime } from "../format";

addMessages(messages);

// The map draws the municipalities' polygons: loaded only here.
const ChoroplethMap = lazy(() => import("../components/ChoroplethMap"));

export default function Analyst() {
  const { t, lang } = useI18n();
  const [energy, setEnergy] = useState<"electricity" | "gas">("gas");
  const [year, setYear] = useState(new Date().getFullYear() - 1);
  const table = useQuery({
    queryKey: ["analyst", energy, year],
    queryFn: () => unwrap(api.GET("/api/v1/analyst/aggregates", { params: { query: { energy, year } } })),
  });
  const geo = useQuery({
    queryKey: ["analyst", "geojson", energy, year],
    queryFn: () => unwrap(api.GET("/api/v1/analyst/aggregates.geojson", { params: { query: { energy, year } } })),
  });
  const n = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toLocaleString(lang === "fr" ? "fr-FR" : "en-GB"));
  return (
    <section aria-labelledby="analyst-title">
      <h1 id="analyst-title">{t("analyst.title")}</h1>
      <p>{t("analyst.intro")}</p>
      <div className="filters">
        <label htmlFor="analyst-energy">{t("analyst.energy")}</label>{" "}
        <select id="analyst-energy" value={energy} onChange={(e) => setEnergy(e.target.value as typeof energy)}>
          <option value="gas">{t("analyst.energy.gas")}</option>
          <option value="electricity">{t("analyst.energy.electricity")}</option>
        </select>{" "}
        <label htmlFor="analyst-year">{t("analyst.year")}</label>{" "}
        <select id="analyst-year" value={year} onChange={(e) => setYear(Number(e.target.value))}>
          {[1, 2, 3, 4].map((k) => new Date().getFullYear() - k).map((y) => <option key={y} value={y}>{y}</option>)}
        </select>
      </div>
      <FormError error={table.error ?? geo.error} />
      {table.data && (
        <p className="analyst-freshness">
          {t("analyst.computed", { at: dateTime(table.data.computed_at, lang) })}
          {table.data.stale && <> {t("analyst.stale")}</>}
        </p>
      )}
      <h2>{t("analyst.map")}</h2>
      {geo.data && (
        <Suspense fallback={<p>{t("app.loading")}</p>}>
          <ChoroplethMap features={geo.data.features as never} title={`${t("analyst.map")} — ${t(`analyst.energy.${energy}`)} ${year}`}
            legend={t("analyst.map.legend")} secretLabel={t("analyst.map.secret")} />
        </Suspense>
      )}
      <p><a href={`/api/v1/analyst/aggregates.geojson?energy=${energy}&year=${year}`} download>{t("analyst.geojson")}</a></p>
      {table.data && (
        <ScrollRegion label={t("analyst.title")}>
          <table>
            <caption>{t("analyst.title")} — {t(`analyst.energy.${energy}`)} {year}</caption>
            <thead>
              <tr>
                <th scope="col">{t("analyst.col.area")}</th>
                <th scope="col">{t("analyst.col.homes")}</th>
                <th scope="col">{t("analyst.col.median")}</th>
                <th scope="col">{t("analyst.col.quartiles")}</th>
                <th scope="col">{t("analyst.col.total")}</th>
                <th scope="col">{t("analyst.col.trend")}</th>
              </tr>
            </thead>
            <tbody>
              {table.data.cells.map((c) => (
                <tr key={`${c.area}-${c.energy}`}>
                  <th scope="row">{c.name ?? c.area}</th>
                  {c.secret ? (
                    <td colSpan={5}>{t("analyst.secret")}</td>
                  ) : (
                    <>
                      <td>{n(c.homes)}</td>
                      <td>{n(c.kwh_m2?.median)}</td>
                      <td>{c.kwh_m2 ? `${n(c.kwh_m2.q1)} – ${n(c.kwh_m2.q3)}` : "—"}</td>
                      <td>{n(c.total_kwh)}</td>
                      <td>{c.trend_pct === null ? "—" : `${c.trend_pct > 0 ? "+" : ""}${n(c.trend_pct)} %`}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <RenovationProgrammes />
    </section>
  );
}
