import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { ConfirmButton } from "../../components/Confirm";
import { Field, FormError } from "../../components/Form";
import { dateTime } from "../../format";
import { Done, ListSection, useRefresh, useStatus, useAdminI18n } from "./common";

type DataItem = Schemas["DataItem"];

/** "data | why | kept", one a line, as the draft form takes what is collected. */
function parseItems(text: string): DataItem[] {
  return text.split("\n").map((l) => l.split("|").map((p) => p.trim())).filter((p) => p[0])
    .map(([data, why = "", kept = ""]) => ({ data, why, kept }));
}

/** Terms-of-use versions: drafts, the one in force, those superseded, and who accepted each. */
export function TermsVersions() {
  const { t } = useAdminI18n();
  const versions = useQuery({ queryKey: ["admin", "terms"], queryFn: () => unwrap(api.GET("/api/v1/admin/terms")) });
  return (
    <ListSection id="terms-title" title={t("admin.terms.title")} intro={t("admin.terms.intro")} query={versions}
      empty={t("admin.terms.none")} item={(v) => <TermsItem key={v.version} version={v} />}>
      <DraftForm />
    </ListSection>
  );
}

function TermsItem({ version }: { version: Schemas["TermsVersion"] }) {
  const { t, lang } = useAdminI18n();
  const status = useStatus();
  const refresh = useRefresh();
  const [open, setOpen] = useState(false);
  const publish = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/terms/{version}/publish", { params: { path: { version: version.version } } })),
    onSuccess: refresh,
  });
  const accepted = useQuery({
    queryKey: ["admin", "terms", version.version, "acceptances"],
    enabled: open,
    queryFn: () => unwrap(api.GET("/api/v1/admin/terms/{version}/acceptances", { params: { path: { version: version.version } } })),
  });
  return (
    <li>
      <div className="meter-head">
        <strong>{version.version}</strong>
        <span className={`badge badge--${version.status === "in_force" ? "active" : version.status === "draft" ? "requested" : "expired"}`}>
          {status(version.status)}
        </span>
      </div>
      <p className="muted">
        {version.summary} · {version.published_at ? t("admin.terms.published", { date: dateTime(version.published_at, lang) })
          : t("admin.terms.drafted", { date: dateTime(version.created_at, lang) })} · {t("admin.terms.accepted", { n: version.accepted })}
      </p>
      <div className="actions">
        {version.status === "draft" && (
          <ConfirmButton label={t("admin.terms.publish")} question={t("admin.terms.publish.question")}
            confirm={t("admin.terms.publish.confirm")} busy={publish.isPending} onConfirm={() => publish.mutate()} />
        )}
        {version.status !== "draft" && (
          <button type="button" className="button button--ghost" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            {t("admin.terms.who")}
          </button>
        )}
      </div>
      <FormError error={publish.error} />
      {open && accepted.data && (
        <div className="card">
          <p>{t("admin.terms.who.count", { accepted: accepted.data.accepted, active: accepted.data.active_accounts })}</p>
          <ul>
            {accepted.data.accounts.map((a) => (
              <li key={a.account_id} className="break">
                {a.email} — {dateTime(a.accepted_at, lang)}
              </li>
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}

function DraftForm() {
  const { t } = useAdminI18n();
  const refresh = useRefresh();
  const textId = useId();
  const itemsId = useId();
  const [form, setForm] = useState({ version: "", summary: "", text: "", items: "" });
  const save = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/terms/drafts", { body: {
      version: form.version.trim(), summary: form.summary, text: form.text, data_collected: parseItems(form.items) } })),
    onSuccess: () => {
      setForm({ version: "", summary: "", text: "", items: "" });
      void refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="card" onSubmit={submit}>
      <h3>{t("admin.terms.new")}</h3>
      <Field label={t("admin.terms.version")} hint={t("admin.terms.version.hint")} value={form.version}
        onChange={(e) => setForm((f) => ({ ...f, version: e.target.value }))} />
      <Field label={t("admin.terms.summary")} value={form.summary}
        onChange={(e) => setForm((f) => ({ ...f, summary: e.target.value }))} />
      <div className="field">
        <label htmlFor={textId}>{t("admin.terms.text")}</label>
        <textarea id={textId} required value={form.text} onChange={(e) => setForm((f) => ({ ...f, text: e.target.value }))} />
      </div>
      <div className="field">
        <label htmlFor={itemsId}>{t("admin.terms.items")}</label>
        <p className="hint" id={`${itemsId}-hint`}>{t("admin.terms.items.hint")}</p>
        <textarea id={itemsId} aria-describedby={`${itemsId}-hint`} value={form.items}
          onChange={(e) => setForm((f) => ({ ...f, items: e.target.value }))} />
      </div>
      <FormError error={save.error} />
      {save.isSuccess && <Done>{t("admin.terms.saved")}</Done>}
      <button className="button" type="submit" disabled={save.isPending}>
        {t("admin.terms.save")}
      </button>
    </form>
  );
}
