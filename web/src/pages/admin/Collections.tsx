import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { ConfirmButton } from "../../components/Confirm";
import { Field, FormError } from "../../components/Form";
import { dateTime, day } from "../../format";
import { Done, ListSection, Loaded, useRefresh, useStatus, useAdminI18n, type AdminKey, ScrollRegion } from "./common";

/** What each connector's `/internal/collections` reports, as the console reads it. */
type Report = {
  dso: string;
  error?: string;
  last_cycle?: { started_at?: string; finished_at?: string | null; trigger?: string } | null;
  meters_active?: number;
  freshness?: Record<string, number>;
  quota_used?: Record<string, unknown>;
  failures?: Record<string, unknown>;
};
const FRESHNESS: { state: string; key: AdminKey }[] = [
  { state: "fresh", key: "admin.fresh" },
  { state: "dso_late", key: "admin.dso_late" },
  { state: "collection_failing", key: "admin.collection_failing" },
  { state: "pending", key: "admin.pending" },
];

function quota(used: Record<string, unknown> | undefined): string {
  if (!used) return "—";
  return Object.entries(used).filter(([, v]) => typeof v === "number" || typeof v === "string")
    .map(([k, v]) => `${k} ${typeof v === "number" ? Math.round(v * 100) / 100 : v}`).join(" · ") || "—";
}

/** Per DSO: the last cycle, meters fresh, late, failing, the quota, and every service's dead letters. */
export function Collections() {
  const { t } = useAdminI18n();
  const reports = useQuery({
    queryKey: ["admin", "collections"],
    queryFn: async () => (await unwrap(api.GET("/api/v1/admin/collections")) as { collections: Report[] }).collections,
  });
  const letters = useQuery({ queryKey: ["admin", "dead-letters"], queryFn: () => unwrap(api.GET("/api/v1/admin/dead-letters")) });
  return (
    <section aria-labelledby="collections-title">
      <h2 id="collections-title">{t("admin.collections.title")}</h2>
      <Loaded query={reports} empty={t("admin.collections.none")}>
        {(rows) => rows.map((r) => <DsoHealth key={r.dso} report={r} />)}
      </Loaded>
      <h2>{t("admin.dead_letters.title")}</h2>
      <p className="lead">{t("admin.dead_letters.intro")}</p>
      <Loaded query={letters} empty={t("admin.collections.none")}>
        {(rows) => (
          <ScrollRegion label={t("admin.dead_letters.title")}>
            <table>
              <caption className="visually-hidden">{t("admin.dead_letters.title")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("admin.col.service")}</th>
                  <th scope="col">{t("admin.col.dead_letters")}</th>
                  <th scope="col">{t("admin.col.queues")}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((d: Schemas["DeadLetters"]) => (
                  <tr key={d.service}>
                    <td>{d.service}</td>
                    <td>{d.error ? t("admin.dead_letters.unknown") : d.total}</td>
                    <td className="break">
                      {Object.entries(d.queues).filter(([, n]) => n > 0).map(([q, n]) => `${q}: ${n}`).join(", ") || "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </Loaded>
    </section>
  );
}

function DsoHealth({ report }: { report: Report }) {
  const { t, lang } = useAdminI18n();
  const refresh = useRefresh();
  const run = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/collections/{dso}/run", {
      params: { path: { dso: report.dso as "enedis" | "grdf" | "sge" } } })),
    onSuccess: refresh,
  });
  const cycle = report.last_cycle;
  return (
    <article className="card" aria-labelledby={`dso-${report.dso}`}>
      <h3 id={`dso-${report.dso}`}>{t("admin.collections.dso", { dso: report.dso.toUpperCase() })}</h3>
      {report.error ? (
        <div className="alert alert--error" role="alert">
          {t("admin.collections.unreachable", { code: report.error })}
        </div>
      ) : (
        <>
          <dl className="facts">
            <div>
              <dt>{t("admin.collections.last_cycle")}</dt>
              <dd>
                {cycle?.started_at ? dateTime(cycle.started_at, lang) : "—"}
                {cycle && !cycle.finished_at ? ` (${t("admin.collections.running")})` : ""}
              </dd>
            </div>
            <div>
              <dt>{t("admin.collections.meters")}</dt>
              <dd>{report.meters_active ?? "—"}</dd>
            </div>
            <div>
              <dt>{t("admin.collections.quota")}</dt>
              <dd className="break">{quota(report.quota_used)}</dd>
            </div>
          </dl>
          <ul className="counts" aria-label={t("admin.collections.freshness")}>
            {FRESHNESS.map((f) => (
              <li key={f.state} className={`freshness freshness--${f.state}`}>
                <strong>{report.freshness?.[f.state] ?? 0}</strong>
                {t(f.key)}
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="actions">
        <button type="button" className="button button--secondary" disabled={run.isPending} onClick={() => run.mutate()}>
          {t("admin.collections.run")}
        </button>
      </div>
      <FormError error={run.error} />
      {run.isSuccess && <Done>{t("admin.collections.started")}</Done>}
    </article>
  );
}

/** SGE subscriptions recorded by administrators: list, record one, end one. */
export function SgeSubscriptions() {
  const { t } = useAdminI18n();
  const refresh = useRefresh();
  const list = useQuery({ queryKey: ["admin", "sge"], queryFn: () => unwrap(api.GET("/api/v1/admin/sge/subscriptions")) });
  const [form, setForm] = useState({ meter_id: "", reference: "", consent_end: "" });
  const record = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/sge/subscriptions", { body: form })),
    onSuccess: () => {
      setForm({ meter_id: "", reference: "", consent_end: "" });
      void refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    record.mutate();
  };
  const bind = (name: keyof typeof form) => ({
    value: form[name], onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [name]: e.target.value })),
  });
  return (
    <ListSection id="sge-title" title={t("admin.sge.title")} query={list} empty={t("admin.sge.none")}
      item={(s) => <SgeItem key={s.consent_id} subscription={s} />}>
      <form className="card" onSubmit={submit}>
        <h3>{t("admin.sge.record")}</h3>
        <Field label={t("admin.sge.meter_id")} hint={t("admin.sge.meter_id.hint")} {...bind("meter_id")} />
        <Field label={t("admin.sge.reference")} {...bind("reference")} />
        <Field label={t("admin.sge.consent_end")} type="date" {...bind("consent_end")} />
        <FormError error={record.error} />
        {record.isSuccess && <Done>{t("admin.sge.recorded")}</Done>}
        <button className="button" type="submit" disabled={record.isPending}>
          {t("admin.sge.record")}
        </button>
      </form>
    </ListSection>
  );
}

function SgeItem({ subscription }: { subscription: Schemas["SgeSubscriptionView"] }) {
  const { t, lang } = useAdminI18n();
  const status = useStatus();
  const refresh = useRefresh();
  const [note, setNote] = useState("");
  const end = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/sge/subscriptions/{consent_id}/end", {
      params: { path: { consent_id: subscription.consent_id } }, body: { note: note || null } })),
    onSuccess: refresh,
  });
  return (
    <li>
      <div className="meter-head">
        <strong className="mono">{subscription.identifier}</strong>
        <span className={`badge badge--${subscription.status}`}>{status(subscription.status)}</span>
      </div>
      <p className="muted">
        {t("admin.sge.line", { reference: subscription.reference ?? "—", end: day(subscription.expires_at, lang) || "—" })}
      </p>
      <Field label={t("admin.note")} optional value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
      <ConfirmButton danger label={t("admin.sge.end")} question={t("admin.sge.end.question")}
        confirm={t("admin.sge.end.confirm")} busy={end.isPending} onConfirm={() => end.mutate()} />
      <FormError error={end.error} />
    </li>
  );
}
