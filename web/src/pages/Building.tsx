import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { BuildingDwellings, MeterRoleForm, roleText, useBuildingHousing } from "../components/BuildingDwellings";
import { FormError } from "../components/Form";
import { Freshness, dsoName } from "../components/Freshness";
import LandlordStatements from "../components/LandlordStatements";
import { ScrollRegion } from "../components/ScrollRegion";
import { day, euros } from "../format";
import { useI18n, type Key } from "../i18n";
import { addMessages } from "../messages";
import * as landlordMessages from "../messages/landlord";
import * as orgMessages from "../messages/orgs";
import { Link } from "../router";

addMessages(orgMessages);
addMessages(landlordMessages);

type Building = Schemas["Building"];

/** `/orgs/<org>/buildings/<building>`: one building of an organisation — its facts, its meters (their role in the
 * tenants' statements and how fresh their data is), its monthly consumption, its dwellings, its statements and its
 * renovations. A manager edits the dwellings and the meters' roles here; a viewer reads. */
export default function BuildingPage({ orgId, buildingId }: { orgId: string; buildingId: string }) {
  const { t } = useI18n();
  const org = useQuery({
    queryKey: ["org", orgId],
    queryFn: () => unwrap(api.GET("/api/v1/orgs/{org_id}", { params: { path: { org_id: orgId } } })),
  });
  const buildings = useQuery({
    queryKey: ["org", orgId, "buildings"],
    queryFn: () => unwrap(api.GET("/api/v1/orgs/{org_id}/buildings", { params: { path: { org_id: orgId } } })),
  });
  const error = org.error ?? buildings.error;
  if (error) return <section><h1>{t("nav.orgs")}</h1><FormError error={error} /></section>;
  if (!org.data || !buildings.data) return <p>{t("app.loading")}</p>;
  const building = buildings.data.find((b) => b.id === buildingId);
  const back = <p><Link to={`/orgs/${orgId}`}>{t("building.back", { org: org.data.name })}</Link></p>;
  if (!building) {
    return <section>{back}<h1>{t("notfound.title")}</h1><p>{t("building.not_found")}</p></section>;
  }
  return (
    <section aria-labelledby="building-title" className="building">
      {back}
      <h1 id="building-title">{building.name}</h1>
      <Facts building={building} />
      <BuildingBody orgId={orgId} building={building} manager={org.data.my_role === "manager"} />
    </section>
  );
}

function Facts({ building: b }: { building: Building }) {
  const { t, lang } = useI18n();
  const unknown = t("building.unknown");
  return (
    <>
      <h2 className="visually-hidden">{t("building.facts")}</h2>
      <dl className="facts card">
        <div><dt>{t("building.address")}</dt><dd>{b.street}, {b.postal_code} {b.municipality}</dd></div>
        {b.site && <div><dt>{t("building.site")}</dt><dd>{b.site}</dd></div>}
        <div><dt>{t("building.use_type")}</dt><dd>{t(`orgs.use.${b.use_type}` as Key)}</dd></div>
        <div>
          <dt>{t("building.area")}</dt>
          <dd>{t("building.area_value", { area: b.heated_area_m2.toLocaleString(lang === "fr" ? "fr-FR" : "en-GB") })}</dd>
        </div>
        <div><dt>{t("building.year")}</dt><dd>{b.construction_year ?? unknown}</dd></div>
        <div><dt>{t("building.heating")}</dt><dd>{b.heating_energy ? t(`heating.${b.heating_energy}` as Key) : unknown}</dd></div>
      </dl>
    </>
  );
}

function BuildingBody({ orgId, building, manager }: { orgId: string; building: Building; manager: boolean }) {
  const housing = useBuildingHousing(orgId, building);
  return (
    <>
      <Meters orgId={orgId} building={building} manager={manager} housing={housing} />
      <MonthlyConsumption orgId={orgId} building={building} />
      {housing && <BuildingDwellings orgId={orgId} building={building} manager={manager} housing={housing} />}
      <LandlordStatements orgId={orgId} buildings={[building]} />
      <Renovations orgId={orgId} buildingId={building.id} />
    </>
  );
}

function Meters({ orgId, building, manager, housing }: {
  orgId: string; building: Building; manager: boolean; housing: ReturnType<typeof useBuildingHousing>;
}) {
  const { t, lang } = useI18n();
  const meters = building.meters ?? [];
  return (
    <section aria-labelledby="building-meters">
      <h2 id="building-meters">{t("building.meters")}</h2>
      {meters.length === 0 && <p>{t("building.no_meters")}</p>}
      <ul className="plain-list building-meters">
        {meters.map((m) => {
          const name = m.label || m.identifier;
          const role = housing?.roles.find((r) => r.meter_id === m.id);
          return (
            <li key={m.id} className="card" data-meter={name}>
              <h3>{name}</h3>
              <p>{t(`energy.${m.energy}` as Key)} · {dsoName(m.dso)}{m.label ? ` · ${m.identifier}` : ""}</p>
              <Freshness meter={m} dso={dsoName(m.dso)} />
              {m.last_collected_day && <p>{t("building.meter.last_day", { day: day(m.last_collected_day, lang) })}</p>}
              {housing && role && (manager ? (
                <MeterRoleForm orgId={orgId} buildingId={building.id} meter={name} role={role} dwellings={housing.dwellings} />
              ) : (
                <p>{t("building.meter.role")} : {roleText(t, role, housing.dwellings)}</p>
              ))}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

type Month = { wh: number; eur: number | null; seen: boolean };

function MonthlyConsumption({ orgId, building }: { orgId: string; building: Building }) {
  const { t, lang } = useI18n();
  const last = new Date(new Date().getFullYear(), new Date().getMonth() - 1, 1).getFullYear();
  const [year, setYear] = useState(last);
  const meters = building.meters ?? [];
  // Every meter's months of the year, read together (one query: the building's figures are their sum).
  const series = useQuery({
    queryKey: ["org", orgId, "building", building.id, "months", year, meters.map((m) => m.id).join()],
    queryFn: () => Promise.all(meters.map((m) => unwrap(api.GET("/api/v1/orgs/{org_id}/meters/{meter_id}/consumption", {
      params: { path: { org_id: orgId, meter_id: m.id },
                query: { from: `${year}-01-01`, to: `${year + 1}-01-01`, step: "month" } },
    })))),
  });
  const months: Month[] = Array.from({ length: 12 }, () => ({ wh: 0, eur: null, seen: false }));
  for (const s of series.data ?? []) {
    for (const p of s.points) {
      const i = Number(p.period.slice(5, 7)) - 1;
      if (p.wh == null || i < 0 || i > 11) continue;
      months[i].wh += p.wh;
      months[i].seen = true;
      if (p.eur != null) months[i].eur = (months[i].eur ?? 0) + Number(p.eur);
    }
  }
  const locale = lang === "fr" ? "fr-FR" : "en-GB";
  const kwh = (wh: number) => Math.round(wh / 1000).toLocaleString(locale);
  const perM2 = (wh: number) => (wh / 1000 / building.heated_area_m2).toLocaleString(locale, { maximumFractionDigits: 2 });
  const shown = months.map((m, i) => ({ ...m, i })).filter((m) => m.seen);
  const total = shown.reduce((a, m) => ({ wh: a.wh + m.wh, eur: m.eur == null ? a.eur : (a.eur ?? 0) + m.eur }),
                             { wh: 0, eur: null as number | null });
  const monthName = (i: number) => new Date(year, i, 15).toLocaleDateString(locale, { month: "long" });
  const loading = series.isPending;
  const error = series.error;
  return (
    <section aria-labelledby="building-consumption">
      <h2 id="building-consumption">{t("building.consumption")}</h2>
      <p>{t("building.consumption.intro")}</p>
      <label htmlFor="building-year">{t("building.consumption.year")}</label>{" "}
      <select id="building-year" value={year} onChange={(e) => setYear(Number(e.target.value))}>
        {[0, 1, 2, 3].map((n) => last - n).map((y) => <option key={y} value={y}>{y}</option>)}
      </select>
      <FormError error={error} />
      {!loading && !error && shown.length === 0 && <p>{t("building.consumption.none")}</p>}
      {shown.length > 0 && (
        <ScrollRegion label={t("building.consumption.caption", { year })}>
          <table className="values">
            <caption>{t("building.consumption.caption", { year })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("building.col.month")}</th>
                <th scope="col">{t("building.col.kwh")}</th>
                <th scope="col">{t("building.col.eur")}</th>
                <th scope="col">{t("building.col.kwh_m2")}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((m) => (
                <tr key={m.i}>
                  <th scope="row">{monthName(m.i)}</th>
                  <td>{kwh(m.wh)}</td>
                  <td>{euros(m.eur, lang)}</td>
                  <td>{perM2(m.wh)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">{t("building.total")}</th>
                <td>{kwh(total.wh)}</td>
                <td>{euros(total.eur, lang)}</td>
                <td>{perM2(total.wh)}</td>
              </tr>
            </tfoot>
          </table>
        </ScrollRegion>
      )}
    </section>
  );
}

function Renovations({ orgId, buildingId }: { orgId: string; buildingId: string }) {
  const { t, lang } = useI18n();
  const renovations = useQuery({
    queryKey: ["org", orgId, "building", buildingId, "renovations"],
    queryFn: () => unwrap(api.GET("/api/v1/orgs/{org_id}/buildings/{building_id}/renovations", {
      params: { path: { org_id: orgId, building_id: buildingId } } })),
  });
  const locale = lang === "fr" ? "fr-FR" : "en-GB";
  const n = (v: number | null | undefined) => (v == null ? "—" : Math.round(v).toLocaleString(locale));
  return (
    <section aria-labelledby="building-renovations">
      <h2 id="building-renovations">{t("building.renovations")}</h2>
      <FormError error={renovations.error} />
      {renovations.data?.length === 0 && <p>{t("building.no_renovations")}</p>}
      <ul className="list">
        {renovations.data?.map((r) => (
          <li key={r.id}>
            <strong>{t("building.renovation.item", { works: t(`works.${r.works}` as Key), day: day(r.day, lang) })}</strong>
            {r.programme ? ` (${r.programme})` : ""}.{" "}
            {t("building.renovation.figures", {
              before: n(r.before.kwh), after: n(r.after.kwh),
              change: r.change_pct == null ? "—" : `${r.change_pct > 0 ? "+" : ""}${r.change_pct.toLocaleString(locale)} %`,
              confidence: t(`building.confidence.${r.confidence}` as Key),
            })}
          </li>
        ))}
      </ul>
    </section>
  );
}
