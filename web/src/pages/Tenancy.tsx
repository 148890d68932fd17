import { useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { useTenancies } from "../api/queries";
import { Field, FormError, fieldError, useErrorSummary } from "../components/Form";
import { lastMonths } from "../components/LandlordStatements";
import { ScrollRegion } from "../components/ScrollRegion";
import { euros } from "../format";
import { useI18n, type Key } from "../i18n";
import { addMessages } from "../messages";
import * as landlordMessages from "../messages/landlord";
import { setSearch, useLocation } from "../router";

addMessages(landlordMessages);

type Tenancy = Schemas["Tenancy"];
type Statement = Schemas["DwellingStatement"];

/** `/tenancy`: a tenant enters the code their landlord gave them, then reads their dwelling's monthly statement —
 * their own meters as measured, their share of the collective heating and hot water as estimated by share key. */
export default function TenancyPage() {
  const { t } = useI18n();
  const tenancies = useTenancies();
  const [another, setAnother] = useState(false);
  const [linked, setLinked] = useState<string | null>(null);
  const list = tenancies.data ?? [];
  return (
    <section aria-labelledby="tenancy-title" className="tenancy">
      <h1 id="tenancy-title">{t("tenancy.title")}</h1>
      <p>{t("tenancy.intro")}</p>
      <FormError error={tenancies.error} />
      {linked && <p className="alert alert--ok" role="status">{t("tenancy.linked", { label: linked })}</p>}
      {tenancies.data && list.length > 0 && <Statements tenancies={list} />}
      {tenancies.data && (list.length === 0 || another ? (
        <CodeForm onLinked={(label) => { setAnother(false); setLinked(label); }} />
      ) : (
        <p><button type="button" className="link-button" onClick={() => setAnother(true)}>{t("tenancy.code.another")}</button></p>
      ))}
    </section>
  );
}

function CodeForm({ onLinked }: { onLinked: (label: string) => void }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [code, setCode] = useState("");
  const accept = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/me/tenancies", { body: { code: code.trim() } })),
    onSuccess: (list) => {
      const before = new Set((client.getQueryData<Tenancy[]>(["tenancies"]) ?? []).map((d) => d.dwelling_id));
      client.setQueryData(["tenancies"], list);
      onLinked((list.find((d) => !before.has(d.dwelling_id)) ?? list[0]).label);
    },
  });
  const errorSummary = useErrorSummary(form, accept.error);
  return (
    <form ref={form} className="card" noValidate aria-labelledby="tenancy-code-title"
      onSubmit={(e) => { e.preventDefault(); accept.mutate(); }}>
      {errorSummary}
      <h2 id="tenancy-code-title">{t("tenancy.code.title")}</h2>
      <p>{t("tenancy.code.intro")}</p>
      <FormError error={accept.error} />
      <Field label={t("tenancy.code.label")} hint={t("tenancy.code.hint")} autoComplete="off" autoCapitalize="characters"
        spellCheck={false} value={code} onChange={(e) => setCode(e.target.value)} error={fieldError(accept.error, "code", t)} />
      <button type="submit" disabled={accept.isPending}>{t("tenancy.code.submit")}</button>
    </form>
  );
}

function Statements({ tenancies }: { tenancies: Tenancy[] }) {
  const { t, lang } = useI18n();
  const { searchParams } = useLocation();
  const months = lastMonths();
  const month = searchParams.get("month") ?? months[0];
  const chosen = tenancies.find((d) => d.dwelling_id === searchParams.get("dwelling")) ?? tenancies[0];
  const statement = useQuery({
    queryKey: ["tenancies", chosen.dwelling_id, month],
    // The route also answers a printable page or a PDF (the links below): here, its JSON.
    queryFn: () => unwrap(api.GET("/api/v1/me/tenancies/{dwelling_id}/statement", {
      params: { path: { dwelling_id: chosen.dwelling_id }, query: { month } } })) as Promise<Schemas["BuildingStatements"]>,
  });
  const locale = lang === "fr" ? "fr-FR" : "en-GB";
  const monthName = (m: string) => new Date(`${m}-15T12:00:00`).toLocaleDateString(locale, { month: "long", year: "numeric" });
  const options = months.includes(month) ? months : [month, ...months];
  const base = `/api/v1/me/tenancies/${chosen.dwelling_id}/statement?month=${month}`;
  return (
    <>
      {tenancies.length > 1 && (
        <p>
          <label htmlFor="tenancy-dwelling">{t("tenancy.dwelling")}</label>{" "}
          <select id="tenancy-dwelling" value={chosen.dwelling_id} onChange={(e) => setSearch({ dwelling: e.target.value })}>
            {tenancies.map((d) => <option key={d.dwelling_id} value={d.dwelling_id}>{d.label}</option>)}
          </select>
        </p>
      )}
      <p>{t("tenancy.landlord", { label: chosen.label, building: chosen.building, address: chosen.address, landlord: chosen.landlord })}</p>
      <p>
        <label htmlFor="tenancy-month">{t("tenancy.month")}</label>{" "}
        <select id="tenancy-month" value={month} onChange={(e) => setSearch({ month: e.target.value })}>
          {options.map((m) => <option key={m} value={m}>{monthName(m)}</option>)}
        </select>
      </p>
      <h2>{t("tenancy.statement.title", { month: monthName(month) })}</h2>
      <FormError error={statement.error} />
      {statement.data?.statements.map((s) => <StatementTable key={s.dwelling_id} statement={s} month={monthName(month)} />)}
      <ul className="list">
        <li><a href={`${base}&format=html`} target="_blank" rel="noopener">{t("tenancy.print")}</a></li>
        <li><a href={`${base}&format=pdf`} download>{t("tenancy.pdf")}</a></li>
      </ul>
    </>
  );
}

function StatementTable({ statement: s, month }: { statement: Statement; month: string }) {
  const { t, lang } = useI18n();
  const locale = lang === "fr" ? "fr-FR" : "en-GB";
  const num = (v: number, digits = 1) => v.toLocaleString(locale, { maximumFractionDigits: digits });
  const partial = s.lines.filter((l) => l.days_present < l.days);
  const present = partial.length ? Math.min(...partial.map((l) => l.days_present)) : 0;
  if (s.lines.length === 0) return <p>{t("tenancy.none")}</p>;
  return (
    <>
      <ScrollRegion label={t("tenancy.statement.caption", { label: s.label, month })}>
        <table className="values" data-statement={s.label}>
          <caption>{t("tenancy.statement.caption", { label: s.label, month })}</caption>
          <thead>
            <tr>
              <th scope="col">{t("tenancy.col.what")}</th>
              <th scope="col">{t("tenancy.col.how")}</th>
              <th scope="col">{t("tenancy.col.kwh")}</th>
              <th scope="col">{t("tenancy.col.eur")}</th>
            </tr>
          </thead>
          <tbody>
            {s.lines.map((l, i) => (
              <tr key={i}>
                <th scope="row">
                  {l.kind === "own" ? t("tenancy.kind.own", { energy: t(`energy.${l.energy}` as Key) }) : t(`tenancy.kind.${l.kind}`)}
                  {l.meter_label ? ` — ${l.meter_label}` : ""}
                </th>
                <td>
                  {l.estimated_by_share_key
                    ? t("tenancy.estimated", { key: t(`tenancy.key.${l.share_key ?? "surface"}`), pct: num(l.share_pct ?? 0, 2) })
                    : t("tenancy.measured")}
                </td>
                <td>{num(l.kwh)}</td>
                <td>{euros(l.eur, lang)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={2}>{t("tenancy.total")}</th>
              <td>{num(s.kwh)}</td>
              <td>{euros(s.eur, lang)}</td>
            </tr>
          </tfoot>
        </table>
      </ScrollRegion>
      <p>{t("tenancy.kwh_m2", { value: num(s.kwh_m2, 2), area: num(s.floor_area_m2) })}</p>
      {partial.length > 0 && <p>{t("tenancy.partial", { present, days: partial[0].days })}</p>}
    </>
  );
}
