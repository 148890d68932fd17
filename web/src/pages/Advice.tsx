import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Schemas } from "../api/client";
import { ConfirmButton } from "../components/Confirm";
import { Field, FormError, fieldError } from "../components/Form";
import { addMonths, day, isoDay } from "../format";
import { useI18n, type Key } from "../i18n";
import * as adviserMessages from "../messages/adviser";
import { addMessages } from "../messages";

addMessages(adviserMessages);

type Share = Schemas["Share"];
type Scope = Share["scopes"][number];

export const scopeList = (scopes: Scope[], t: (k: Key) => string) =>
  scopes.map((s) => t(`share.scopes.${s}` as Key)).join(", ");

function ShareItem({ share }: { share: Share }) {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const who = share.adviser_name;
  const done = () => client.invalidateQueries({ queryKey: ["shares"] });
  const stop = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/me/shares/{share_id}", { params: { path: { share_id: share.id } } })),
    onSuccess: done,
  });
  const renew = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/me/shares/{share_id}/renewal", {
      params: { path: { share_id: share.id } }, body: {} })),
    onSuccess: done,
  });
  return (
    <li>
      <span>
        <strong>{who}</strong> <span className="muted">{t("share.shown_as", { name: share.resident_name })}</span>
        <br />
        <span>{t(`share.status.${share.status as "active" | "expired"}`, { date: day(share.ends_on, lang) })}</span>
        <span className="muted"> · {scopeList(share.scopes, t)}</span>
      </span>
      <span className="actions">
        <button type="button" className="button button--secondary" onClick={() => renew.mutate()} disabled={renew.isPending}>
          {t("share.renew", { who })}
        </button>
        <button type="button" className="button button--secondary" onClick={() => stop.mutate()} disabled={stop.isPending}>
          {t("data.shares.revoke", { who })}
        </button>
      </span>
      {renew.isSuccess && (
        <p className="alert alert--ok" role="status">
          {t("share.renewed", { date: day(renew.data.ends_on, lang) })}
        </p>
      )}
      <FormError error={stop.error ?? renew.error} />
    </li>
  );
}

/** Sharing with an adviser: under which name and contact, what, until when; extend or stop each share. */
export function Shares() {
  const { t } = useI18n();
  const client = useQueryClient();
  const today = isoDay(new Date());
  const blank = { email: "", name: "", contact: "", dwelling: false, contract: false, ends_on: addMonths(today, 6) };
  const [form, setForm] = useState(blank);
  const set = (k: keyof typeof blank, v: string | boolean) => setForm((f) => ({ ...f, [k]: v }));
  const shares = useQuery({ queryKey: ["shares"], retry: false, queryFn: () => unwrap(api.GET("/api/v1/me/shares")) });
  const share = useMutation({
    mutationFn: () => {
      const scopes: Scope[] = ["consumption"];
      if (form.dwelling) scopes.push("dwelling");
      if (form.contract) scopes.push("contract");
      return unwrap(api.POST("/api/v1/me/shares", { body: {
        adviser_email: form.email, resident_name: form.name, resident_contact: form.contact || null, scopes,
        ends_on: form.ends_on || null } }));
    },
    onSuccess: () => (setForm(blank), client.invalidateQueries({ queryKey: ["shares"] })),
  });
  if (shares.error) return <FormError error={shares.error} />;
  const current = (shares.data ?? []).filter((s) => s.status !== "revoked");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    share.mutate();
  };
  const err = (field: string) => fieldError(share.error, field, t);
  return (
    <>
      <p>{t("data.shares.intro")}</p>
      {shares.data && current.length === 0 && <p>{t("data.shares.none")}</p>}
      <ul className="shares">
        {current.map((s) => (
          <ShareItem key={s.id} share={s} />
        ))}
      </ul>
      <form onSubmit={submit} noValidate className="share-form">
        <Field label={t("data.shares.email")} type="email" autoComplete="off" value={form.email}
          onChange={(e) => set("email", e.target.value)} error={err("adviser_email") ?? err("email")} />
        <div className="row">
          <Field label={t("share.name")} hint={t("share.name.hint")} autoComplete="name" value={form.name}
            maxLength={100} onChange={(e) => set("name", e.target.value)} error={err("resident_name")} />
          <Field label={t("share.contact")} hint={t("share.contact.hint")} optional value={form.contact}
            maxLength={200} onChange={(e) => set("contact", e.target.value)} error={err("resident_contact")} />
        </div>
        <fieldset>
          <legend>{t("share.scope")}</legend>
          <div className="field field--check">
            <input id="scope-consumption" type="checkbox" checked disabled />
            <label htmlFor="scope-consumption">{t("share.scope.consumption")}</label>
          </div>
          <div className="field field--check">
            <input id="scope-dwelling" type="checkbox" checked={form.dwelling} onChange={(e) => set("dwelling", e.target.checked)} />
            <label htmlFor="scope-dwelling">{t("share.scope.dwelling")}</label>
          </div>
          <div className="field field--check">
            <input id="scope-contract" type="checkbox" checked={form.contract} onChange={(e) => set("contract", e.target.checked)} />
            <label htmlFor="scope-contract">{t("share.scope.contract")}</label>
          </div>
        </fieldset>
        <Field label={t("share.ends_on")} hint={t("share.ends_on.hint")} type="date" value={form.ends_on}
          min={today} max={addMonths(today, 12)} onChange={(e) => set("ends_on", e.target.value)}
          error={err("ends_on") ?? (share.error instanceof ApiError && share.error.code === "invalid_share_end"
            ? t("error.invalid_share_end") : undefined)} />
        <button type="submit" className="button" disabled={share.isPending}>
          {t("data.shares.submit")}
        </button>
      </form>
      {share.isSuccess && <p className="alert alert--ok" role="status">{t("share.done")}</p>}
      {share.error instanceof ApiError && !share.error.field && share.error.code !== "invalid_share_end" &&
        <FormError error={share.error} />}
    </>
  );
}

/** The resident's advice notes, newest first, each deletable. */
export function AdviceNotes() {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const notes = useQuery({ queryKey: ["advice"], retry: false, queryFn: () => unwrap(api.GET("/api/v1/me/advice")) });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/me/advice/{note_id}", { params: { path: { note_id: id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["advice"] }),
  });
  return (
    <>
      <p>{t("advice.intro")}</p>
      {notes.isPending && <p>{t("app.loading")}</p>}
      <FormError error={notes.error ?? remove.error} />
      {remove.isSuccess && <p className="alert alert--ok" role="status">{t("advice.deleted")}</p>}
      {notes.data?.length === 0 && <p>{t("advice.none")}</p>}
      <ul className="notes">
        {notes.data?.map((n) => (
          <li key={n.id}>
            <p className="muted">{t("advice.from", { who: n.adviser_name, date: day(n.created_at, lang) })}</p>
            <p className="note-body">{n.body}</p>
            <ConfirmButton label={t("advice.delete", { date: day(n.created_at, lang) })}
              question={t("advice.delete.confirm")} confirm={t("advice.delete.yes")}
              onConfirm={() => remove.mutate(n.id)} busy={remove.isPending} />
          </li>
        ))}
      </ul>
    </>
  );
}
