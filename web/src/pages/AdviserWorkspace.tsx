import { useId, useState, type FormEvent, type TextareaHTMLAttributes } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type MeterView, type Schemas } from "../api/client";
import { ConfirmButton } from "../components/Confirm";
import { Field, FormError, Select, fieldError } from "../components/Form";
import { NewsItem } from "../components/NewsCard";
import { addMonths, day, euros, isoDay, kwh } from "../format";
import { useI18n, type Key } from "../i18n";
import { Link } from "../router";
import { scopeList } from "./Advice";
import * as adviserMessages from "../messages/adviser";
import { addMessages } from "../messages";
import { ScrollRegion } from "../components/ScrollRegion";

addMessages(adviserMessages);

type Resident = Schemas["SharedResident"];

function TextArea({ label, hint, error, id, ...area }: { label: string; hint?: string; error?: string } &
  TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const auto = useId();
  const fieldId = id ?? auto;
  const describedBy = [hint && `${fieldId}-hint`, error && `${fieldId}-error`].filter(Boolean).join(" ");
  return (
    <div className={`field${error ? " field--error" : ""}`}>
      <label htmlFor={fieldId}>{label}</label>
      {hint && <p className="hint" id={`${fieldId}-hint`}>{hint}</p>}
      <textarea id={fieldId} aria-invalid={error ? true : undefined} aria-describedby={describedBy || undefined}
        required {...area} />
      {error && <p className="field-error" id={`${fieldId}-error`}>{error}</p>}
    </div>
  );
}

function useResidents() {
  return useQuery({ queryKey: ["adviser", "residents"], retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/adviser/residents")) });
}

/** The residents who share with this adviser, under the name and contact each chose. */
export function ResidentList() {
  const { t, lang } = useI18n();
  const residents = useResidents();
  return (
    <div>
      <h1>{t("adviser.title")}</h1>
      <p className="lead">{t("adviser.intro")}</p>
      {residents.isPending && <p>{t("app.loading")}</p>}
      <FormError error={residents.error} />
      {residents.data?.length === 0 && <p className="card">{t("adviser.none")}</p>}
      <ul className="residents">
        {residents.data?.map((r) => (
          <li key={r.share_id} className="card">
            <h2>
              <Link to={`/adviser/residents/${r.resident_id}`} aria-label={t("adviser.open", { name: r.name })}>
                {r.name}
              </Link>
            </h2>
            <p>{r.contact ? t("adviser.contact", { contact: r.contact }) : t("adviser.no_contact")}</p>
            <p className="muted">
              {t("adviser.scopes", { scopes: scopeList(r.scopes, t) })} · {t("adviser.until", { date: day(r.ends_on, lang) })}
            </p>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Summary({ residentId }: { residentId: string }) {
  const { t, lang } = useI18n();
  const summary = useQuery({ queryKey: ["adviser", residentId, "summary"], retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/adviser/residents/{resident_id}/summary",
      { params: { path: { resident_id: residentId } } })) });
  return (
    <section className="card" aria-labelledby="summary-title">
      <h2 id="summary-title">{t("adviser.summary")}</h2>
      {summary.isPending && <p>{t("app.loading")}</p>}
      <FormError error={summary.error} />
      {summary.data?.meters.map((m) => {
        const metric = m.comparison?.available ? m.comparison.kwh : null;
        return (
          <div key={m.meter_id}>
            <h3>{t(`energy.${m.energy}` as Key)}</h3>
            <p>{t("adviser.month", { kwh: kwh(m.totals.month_wh, lang), eur: euros(m.totals.month_eur, lang) })}</p>
            <p>
              {metric
                ? t("adviser.comparison", { you: kwh(metric.value * 1000, lang), median: kwh(metric.median * 1000, lang),
                    efficient: kwh(metric.efficient * 1000, lang) })
                : t("adviser.comparison.none")}
            </p>
          </div>
        );
      })}
    </section>
  );
}

function MeterConsumption({ residentId, meter }: { residentId: string; meter: MeterView }) {
  const { t, lang } = useI18n();
  const last = meter.last_collected_day ?? isoDay(new Date());
  const [month, setMonth] = useState(last.slice(0, 7));
  const from = `${month}-01`;
  const to = addMonths(from, 1);
  const series = useQuery({ queryKey: ["adviser", residentId, meter.id, month], retry: false, enabled: month.length === 7,
    queryFn: () => unwrap(api.GET("/api/v1/adviser/residents/{resident_id}/meters/{meter_id}/consumption", {
      params: { path: { resident_id: residentId, meter_id: meter.id }, query: { from, to, step: "day" } } })) });
  const points = series.data?.points ?? [];
  const sum = (k: "wh" | "eur") => points.reduce((a, p) => a + Number(p[k] ?? 0), 0);
  const contract = meter.contract;
  const name = `${t(`energy.${meter.energy}` as Key)} ${meter.identifier}`;
  return (
    <div className="meter-block">
      <h3>{name}</h3>
      {contract && (
        <p>
          {t("adviser.contract", { option: contract.tariff_option, kva: contract.subscribed_kva ?? "—" })}
          {contract.offpeak_hours ? ` · ${t("adviser.contract.offpeak", { hours: contract.offpeak_hours })}` : ""}
        </p>
      )}
      <Field label={`${t("adviser.period")} (${name})`} type="month" value={month}
        onChange={(e) => setMonth(e.target.value)} />
      <FormError error={series.error} />
      {series.data && (
        <>
          <p className="big-sentence">{t("adviser.total", { kwh: kwh(sum("wh"), lang), eur: euros(sum("eur"), lang) })}</p>
          {points.length > 0 && (
            <details>
            <summary>{t("adviser.days")}</summary>
            <ScrollRegion label={name}>
              <table className="values">
                <caption className="visually-hidden">{name}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("dashboard.col.period")}</th>
                    <th scope="col">kWh</th>
                    <th scope="col">€</th>
                  </tr>
                </thead>
                <tbody>
                  {points.map((p) => (
                    <tr key={p.period}>
                      <th scope="row">{day(p.period, lang, { day: "numeric", month: "short" })}</th>
                      <td data-wh={p.wh ?? ""}>{kwh(p.wh, lang)}</td>
                      <td>{euros(p.eur, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
            </details>
          )}
        </>
      )}
    </div>
  );
}

function Dwelling({ residentId }: { residentId: string }) {
  const { t } = useI18n();
  const dwelling = useQuery({ queryKey: ["adviser", residentId, "dwelling"], retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/adviser/residents/{resident_id}/dwelling",
      { params: { path: { resident_id: residentId } } })) });
  const d = dwelling.data;
  const facts: [Key, string | number | null | undefined][] = d ? [
    ["adviser.dwelling.municipality", d.municipality],
    ["adviser.dwelling.type", d.dwelling_type && t(`dwelling.type.${d.dwelling_type}` as Key)],
    ["adviser.dwelling.surface", d.surface_m2 ? `${d.surface_m2} m²` : null], ["adviser.dwelling.occupants", d.occupants],
    ["adviser.dwelling.heating", d.heating_energy && t(`heating.${d.heating_energy}` as Key)],
    ["adviser.dwelling.year", d.construction_year]] : [];
  return (
    <section className="card" aria-labelledby="dwelling-title">
      <h2 id="dwelling-title">{t("adviser.dwelling")}</h2>
      <FormError error={dwelling.error} />
      {d && (
        <dl className="facts">
          {facts.map(([k, v]) => (
            <div key={k}>
              <dt>{t(k)}</dt>
              <dd>{v ?? "—"}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

function Notes({ residentId }: { residentId: string }) {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const [body, setBody] = useState("");
  const key = ["adviser", residentId, "advice"];
  const notes = useQuery({ queryKey: key, retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/adviser/residents/{resident_id}/advice",
      { params: { path: { resident_id: residentId } } })) });
  const write = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/adviser/residents/{resident_id}/advice",
      { params: { path: { resident_id: residentId } }, body: { body } })),
    onSuccess: () => (setBody(""), client.invalidateQueries({ queryKey: key })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    write.mutate();
  };
  return (
    <section className="card" aria-labelledby="notes-title">
      <h2 id="notes-title">{t("adviser.notes")}</h2>
      <FormError error={notes.error} />
      {notes.data?.length === 0 && <p>{t("adviser.notes.none")}</p>}
      <ul className="notes">
        {notes.data?.map((n) => (
          <li key={n.id}>
            <p className="muted">{day(n.created_at, lang)}</p>
            <p className="note-body">{n.body}</p>
          </li>
        ))}
      </ul>
      <form onSubmit={submit} noValidate>
        <TextArea label={t("adviser.note.body")} hint={t("adviser.note.hint")} rows={4} maxLength={4000} value={body}
          onChange={(e) => setBody(e.target.value)} error={fieldError(write.error, "body", t)} />
        <button type="submit" className="button" disabled={write.isPending}>
          {t("adviser.note.submit")}
        </button>
      </form>
      {write.isSuccess && <p className="alert alert--ok" role="status">{t("adviser.note.sent")}</p>}
      {write.error instanceof ApiError && !write.error.field && <FormError error={write.error} />}
    </section>
  );
}

/** One resident's shared data, within what they share, and the advice written to them. */
export function ResidentPage({ residentId }: { residentId: string }) {
  const { t, lang } = useI18n();
  const residents = useResidents();
  const resident: Resident | undefined = residents.data?.find((r) => r.resident_id === residentId);
  const meters = useQuery({ queryKey: ["adviser", residentId, "meters"], retry: false, enabled: Boolean(resident),
    queryFn: () => unwrap(api.GET("/api/v1/adviser/residents/{resident_id}/meters",
      { params: { path: { resident_id: residentId } } })) });
  const back = <p><Link to="/adviser">{t("adviser.back")}</Link></p>;
  if (residents.isPending) return <p>{t("app.loading")}</p>;
  if (!resident) {
    return (
      <div>
        <h1>{t("adviser.title")}</h1>
        <div className="alert alert--info" role="status">{t("adviser.gone")}</div>
        {back}
      </div>
    );
  }
  return (
    <div>
      {back}
      <h1>{resident.name}</h1>
      <p className="lead">
        {resident.contact ? t("adviser.contact", { contact: resident.contact }) : t("adviser.no_contact")}
        <br />
        {t("adviser.scopes", { scopes: scopeList(resident.scopes, t) })} · {t("adviser.until", { date: day(resident.ends_on, lang) })}
      </p>
      <Summary residentId={residentId} />
      <section className="card" aria-labelledby="meters-title">
        <h2 id="meters-title">{t("adviser.meters")}</h2>
        <FormError error={meters.error} />
        {meters.data?.length === 0 && <p>{t("adviser.meters.none")}</p>}
        {meters.data?.map((m) => <MeterConsumption key={m.id} residentId={residentId} meter={m} />)}
      </section>
      {resident.scopes.includes("dwelling") && <Dwelling residentId={residentId} />}
      <Notes residentId={residentId} />
    </div>
  );
}

type Draft = Schemas["NewsDraft"];

function NewsList({ archived }: { archived: boolean }) {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const list = useQuery({ queryKey: ["news-editor", archived], retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/admin/news", { params: { query: { archived } } })) });
  const withdraw = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/admin/news/{news_id}", { params: { path: { news_id: id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["news-editor"] }),
  });
  const none = archived ? "news.archive.none" : "news.mine.none";
  return (
    <>
      <FormError error={list.error ?? withdraw.error} />
      {list.data?.length === 0 && <p>{t(none)}</p>}
      <ul className="news-list">
        {list.data?.map((n) => (
          <li key={n.id}>
            <NewsItem item={n} lang={lang} />
            <p className="muted">
              {t(`news.audience.${n.audience}` as Key)} ·{" "}
              {t(`news.state.${n.state}` as Key, { from: day(n.valid_from, lang), until: day(n.valid_until, lang) })}
            </p>
            {!archived && (
              <ConfirmButton label={t("news.withdraw", { title: lang === "fr" ? n.title_fr : n.title_en })}
                question={t("news.withdraw.confirm")} confirm={t("news.withdraw.yes")}
                onConfirm={() => withdraw.mutate(n.id)} busy={withdraw.isPending} />
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

/** Writing seasonal news, with a preview in both languages, and the author's current and archived items. */
export function NewsEditor() {
  const { t } = useI18n();
  const client = useQueryClient();
  const today = isoDay(new Date());
  const blank = { title_fr: "", title_en: "", body_fr: "", body_en: "", audience: "all" as Draft["audience"],
                  valid_from: today, valid_until: addMonths(today, 3) };
  const [draft, setDraft] = useState(blank);
  const set = (k: keyof typeof blank, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const publish = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/news", { body: draft })),
    onSuccess: () => (setDraft(blank), client.invalidateQueries({ queryKey: ["news-editor"] }),
      client.invalidateQueries({ queryKey: ["news"] })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    publish.mutate();
  };
  const err = (f: string) => fieldError(publish.error, f, t);
  const period = publish.error instanceof ApiError && publish.error.code === "invalid_news_period"
    ? t("error.invalid_news_period") : undefined;
  const filled = draft.title_fr && draft.body_fr && draft.title_en && draft.body_en;
  return (
    <div>
      <h1>{t("news.editor.title")}</h1>
      <p className="lead">{t("news.editor.intro")}</p>
      <section className="card" aria-labelledby="write-title">
        <h2 id="write-title">{t("news.publish")}</h2>
        <form onSubmit={submit} noValidate>
          <div className="row">
            <Field label={t("news.title_fr")} lang="fr" maxLength={120} value={draft.title_fr}
              onChange={(e) => set("title_fr", e.target.value)} error={err("title_fr")} />
            <Field label={t("news.title_en")} lang="en" maxLength={120} value={draft.title_en}
              onChange={(e) => set("title_en", e.target.value)} error={err("title_en")} />
          </div>
          <div className="row">
            <TextArea label={t("news.body_fr")} lang="fr" rows={4} maxLength={1000} value={draft.body_fr}
              onChange={(e) => set("body_fr", e.target.value)} error={err("body_fr")} />
            <TextArea label={t("news.body_en")} lang="en" rows={4} maxLength={1000} value={draft.body_en}
              onChange={(e) => set("body_en", e.target.value)} error={err("body_en")} />
          </div>
          <div className="row">
            <Select label={t("news.audience")} value={draft.audience}
              onChange={(e) => set("audience", e.target.value)}>
              {(["all", "resident", "pro"] as const).map((a) => (
                <option key={a} value={a}>{t(`news.audience.${a}`)}</option>
              ))}
            </Select>
            <div />
            <Field label={t("news.valid_from")} type="date" value={draft.valid_from}
              onChange={(e) => (set("valid_from", e.target.value),
                e.target.value && set("valid_until", addMonths(e.target.value, 3)))}
              error={err("valid_from")} />
            <Field label={t("news.valid_until")} hint={t("news.valid_until.hint")} type="date" value={draft.valid_until}
              onChange={(e) => set("valid_until", e.target.value)} error={err("valid_until") ?? period} />
          </div>
          <section className="preview" aria-labelledby="preview-title">
            <h3 id="preview-title">{t("news.preview")}</h3>
            {filled ? (
              <div className="row">
                <NewsItem item={draft} lang="fr" level={4} />
                <NewsItem item={draft} lang="en" level={4} />
              </div>
            ) : (
              <p className="muted">{t("news.preview.empty")}</p>
            )}
          </section>
          <button type="submit" className="button" disabled={publish.isPending}>
            {t("news.publish")}
          </button>
        </form>
        {publish.isSuccess && <p className="alert alert--ok" role="status">{t("news.published")}</p>}
        {publish.error instanceof ApiError && !publish.error.field && !period && <FormError error={publish.error} />}
      </section>
      <section className="card" aria-labelledby="mine-title">
        <h2 id="mine-title">{t("news.mine")}</h2>
        <NewsList archived={false} />
      </section>
      <section className="card" aria-labelledby="archive-title">
        <h2 id="archive-title">{t("news.archive")}</h2>
        <NewsList archived />
      </section>
    </div>
  );
}

/** Loaded apart from the residents' screens: only advisers and administrators open it. */
export default function Workspace({ view, residentId }: { view: "residents" | "resident" | "news"; residentId?: string }) {
  if (view === "resident" && residentId) return <ResidentPage key={residentId} residentId={residentId} />;
  return view === "news" ? <NewsEditor /> : <ResidentList />;
}
