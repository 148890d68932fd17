import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "../api/client";
import { ConfirmButton } from "../components/Confirm";
import { Field, FormError, fieldError, useErrorSummary } from "../components/Form";
import { dateTime, day } from "../format";
import { errorMessage, useI18n } from "../i18n";
import { navigate } from "../router";

function Section({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function HeldData() {
  const { t } = useI18n();
  const data = useQuery({ queryKey: ["my-data"], retry: false,
    queryFn: async () => (await unwrap(api.GET("/api/v1/me/data"))) as Record<string, unknown> });
  if (data.isPending) return <p>{t("app.loading")}</p>;
  if (data.error) return <FormError error={data.error} />;
  return (
    <ul className="held">
      {Object.entries(data.data).map(([name, content]) => (
        <li key={name}>
          <details>
            <summary>
              {name}
              {Array.isArray(content) ? ` (${content.length})` : ""}
            </summary>
            <pre>{JSON.stringify(content, null, 2)}</pre>
          </details>
        </li>
      ))}
    </ul>
  );
}

function Shares() {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const [email, setEmail] = useState("");
  const shares = useQuery({ queryKey: ["shares"], retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/me/shares")) });
  const share = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/me/shares", { body: { adviser_email: email, scopes: ["consumption", "profile"] } })),
    onSuccess: () => (setEmail(""), client.invalidateQueries({ queryKey: ["shares"] })),
  });
  const stop = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/me/shares/{share_id}", { params: { path: { share_id: id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["shares"] }),
  });
  const form = useRef<HTMLFormElement>(null);
  const summary = useErrorSummary(form, share.error);
  if (shares.error) return <FormError error={shares.error} />;
  const current = (shares.data ?? []).filter((s) => !s.revoked_at);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    share.mutate();
  };
  return (
    <>
      <p>{t("data.shares.intro")}</p>
      {shares.data && current.length === 0 && <p>{t("data.shares.none")}</p>}
      <ul className="shares">
        {current.map((s) => {
          const who = s.adviser_name;
          return (
            <li key={s.id}>
              <span>
                <strong>{who}</strong>
                <span className="muted"> {t("data.shares.since", { date: day(s.created_at, lang) })}</span>
              </span>
              <button type="button" className="button button--secondary" onClick={() => stop.mutate(s.id)}>
                {t("data.shares.revoke", { who })}
              </button>
            </li>
          );
        })}
      </ul>
      {stop.error && <FormError error={stop.error} />}
      <form ref={form} onSubmit={submit} noValidate className="inline-form">
        {summary}
        <Field label={t("data.shares.email")} type="email" autoComplete="off" value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldError(share.error, "adviser_email", t) ?? fieldError(share.error, "email", t)} />
        <button type="submit" className="button" disabled={share.isPending}>
          {t("data.shares.submit")}
        </button>
      </form>
      {share.error instanceof ApiError && !share.error.field && <FormError error={share.error} />}
    </>
  );
}

function AccessLog() {
  const { t, lang } = useI18n();
  const log = useQuery({ queryKey: ["access-log"], retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/me/access-log")) });
  if (log.isPending) return <p>{t("app.loading")}</p>;
  if (log.error) return <FormError error={log.error} />;
  if (!log.data || log.data.length === 0) return <p>{t("data.log.none")}</p>;
  return (
    <div className="table-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">{t("data.log.when")}</th>
            <th scope="col">{t("data.log.who")}</th>
            <th scope="col">{t("data.log.what")}</th>
          </tr>
        </thead>
        <tbody>
          {log.data.map((e, i) => (
            <tr key={i}>
              <td>{dateTime(e.at, lang)}</td>
              <td>{`${e.reader_name} · ${e.reader_role}`}</td>
              <td>{e.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DeleteAccount() {
  const { t } = useI18n();
  const client = useQueryClient();
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/me")),
    onSuccess: () => {
      client.clear();
      navigate("/goodbye", true);
    },
  });
  return (
    <>
      <p>{t("data.delete.intro")}</p>
      {remove.error && <p role="alert" className="alert alert--error">{errorMessage(t, remove.error.code)}</p>}
      <ConfirmButton danger label={t("data.delete")} question={t("data.delete.confirm")} confirm={t("data.delete.yes")}
        onConfirm={() => remove.mutate()} busy={remove.isPending} />
    </>
  );
}

export default function MyData() {
  const { t } = useI18n();
  return (
    <div>
      <h1>{t("data.title")}</h1>
      <p className="lead">{t("data.intro")}</p>
      <Section id="held-title" title={t("data.held")}>
        <HeldData />
      </Section>
      <Section id="export-title" title={t("data.export")}>
        <div className="actions">
          <a className="button button--secondary" href="/api/v1/me/export?format=json" download>
            {t("data.export.json")}
          </a>
          <a className="button button--secondary" href="/api/v1/me/export?format=csv" download>
            {t("data.export.csv")}
          </a>
          <a className="button button--secondary" href="/api/v1/me/export?format=espi" download>
            {t("data.export.espi")}
          </a>
        </div>
      </Section>
      <Section id="shares-title" title={t("data.shares")}>
        <Shares />
      </Section>
      <Section id="log-title" title={t("data.log")}>
        <AccessLog />
      </Section>
      <Section id="delete-title" title={t("data.delete")}>
        <DeleteAccount />
      </Section>
    </div>
  );
}
