import "./accountMessages";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Account, type Schemas } from "../api/client";
import { useAccountLanguage } from "../language";
import { ConfirmButton } from "../components/Confirm";
import { ErrorSummary, type FieldErrors } from "../components/ErrorSummary";
import { Field, FormError, useErrorSummary } from "../components/Form";
import { dateTime } from "../format";
import { errorMessage, useI18n, type Lang } from "../i18n";
import { Link } from "../router";

type Translate = ReturnType<typeof useI18n>["t"];

/** The API's refusal as errors on the form's fields (`byCode` names the field of each code), else none. */
export function apiFieldErrors(error: unknown, byCode: Record<string, string>, t: Translate): FieldErrors {
  if (!(error instanceof ApiError)) return {};
  const field = byCode[error.code] ?? (error.field && Object.values(byCode).includes(error.field) ? error.field : undefined);
  if (!field) return {};
  return { [field]: error.code === "invalid_field" && field.includes("email") ? t("error.invalid_email") : errorMessage(t, error.code) };
}

/** True when the error is about no field of the form: it is then shown as the form's own message. */
function formLevel(error: unknown, fields: FieldErrors): unknown {
  return error && Object.keys(fields).length === 0 ? error : null;
}

function LanguageForm({ account }: { account: Account }) {
  const { t } = useI18n();
  const save = useAccountLanguage(account);
  const [choice, setChoice] = useState<Lang>(account.language === "en" ? "en" : "fr");
  useEffect(() => setChoice(account.language === "en" ? "en" : "fr"), [account.language]);
  const change = useMutation({ mutationFn: (lang: Lang) => save(lang) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    change.mutate(choice);
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="language-title">
      <h2 id="language-title">{t("account.language.title")}</h2>
      <fieldset className="choices">
        <legend>{t("account.language.legend")}</legend>
        {(["fr", "en"] as const).map((l) => (
          <div className="field field--check" key={l}>
            <input type="radio" id={`language-${l}`} name="language" value={l} checked={choice === l}
              onChange={() => setChoice(l)} />
            <label htmlFor={`language-${l}`} lang={l}>{t(`account.language.${l}`)}</label>
          </div>
        ))}
      </fieldset>
      {change.isSuccess && <p className="alert alert--ok" role="status">{t("account.language.saved")}</p>}
      <FormError error={change.error} />
      <button className="button" type="submit" disabled={change.isPending}>{t("account.language.save")}</button>
    </form>
  );
}

const EMAIL_CODES = { email_taken: "new_email", same_email: "new_email", undeliverable_email: "new_email",
                      invalid_field: "new_email", wrong_password: "password" };

function EmailForm({ account }: { account: Account }) {
  const { t } = useI18n();
  const [newEmail, setNewEmail] = useState("");
  const [password, setPassword] = useState("");
  const [client, setClient] = useState<FieldErrors>({});
  const form = useRef<HTMLFormElement>(null);
  const [attempt, setAttempt] = useState(0);
  const change = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/v1/me/email", { body: { new_email: newEmail.trim(), password } })),
    onError: () => setAttempt((n) => n + 1),
  });
  const remote = apiFieldErrors(change.error, EMAIL_CODES, t);
  const errors = { ...client, ...remote };
  const errorSummary = useErrorSummary(form, attempt);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(newEmail.trim())) found.new_email = t("error.invalid_email");
    if (!password) found.password = t("error.missing_field");
    setClient(found);
    if (Object.keys(found).length) setAttempt((n) => n + 1);
    else change.mutate();
  };
  const labels = { new_email: t("account.email.new"), password: t("account.password.current") };
  return (
    <form ref={form} className="card" onSubmit={submit} noValidate aria-labelledby="email-title">
      {errorSummary}
      <h2 id="email-title">{t("account.email.title")}</h2>
      <p>
        {t("account.email.current", { email: account.email })} (
        {account.email_verified ? t("account.email.verified") : t("account.email.unverified")})
      </p>
      <ErrorSummary errors={errors} labels={labels} idPrefix="email" />
      {change.isSuccess ? (
        <p className="alert alert--ok" role="status">{t("account.email.sent", { email: newEmail.trim() })}</p>
      ) : (
        <>
          <Field id="email-new_email" label={labels.new_email} type="email" name="new_email" autoComplete="email"
            value={newEmail} onChange={(e) => setNewEmail(e.target.value)} error={errors.new_email} />
          <Field id="email-password" label={labels.password} hint={t("account.email.password_hint")} type="password"
            name="password" autoComplete="current-password" value={password}
            onChange={(e) => setPassword(e.target.value)} error={errors.password} />
          <FormError error={formLevel(change.error, remote)} />
          <button className="button" type="submit" disabled={change.isPending}>{t("account.email.submit")}</button>
        </>
      )}
    </form>
  );
}

const PASSWORD_CODES = { wrong_password: "current", weak_password: "new" };

function PasswordForm() {
  const { t } = useI18n();
  const client = useQueryClient();
  const [values, setValues] = useState({ current: "", new: "", confirm: "" });
  const [local, setLocal] = useState<FieldErrors>({});
  const [attempt, setAttempt] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  const change = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/v1/me/password", {
      body: { current_password: values.current, new_password: values.new } })),
    onSuccess: () => {
      setValues({ current: "", new: "", confirm: "" });
      void client.invalidateQueries({ queryKey: ["sessions"] });
    },
    onError: () => setAttempt((n) => n + 1),
  });
  const remote = apiFieldErrors(change.error, PASSWORD_CODES, t);
  const errors = { ...local, ...remote };
  const errorSummary = useErrorSummary(form, attempt);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    if (!values.current) found.current = t("error.missing_field");
    if (values.new.length < 12) found.new = t("account.password.too_short");
    if (values.confirm !== values.new) found.confirm = t("account.password.mismatch");
    setLocal(found);
    change.reset();
    if (Object.keys(found).length) setAttempt((n) => n + 1);
    else change.mutate();
  };
  const labels = { current: t("account.password.current"), new: t("account.password.new"),
                   confirm: t("account.password.confirm") };
  const bind = (name: keyof typeof values) => ({
    id: `password-${name}`, label: labels[name], type: "password", name: `password_${name}`, value: values[name],
    error: errors[name], onChange: (e: { target: { value: string } }) => setValues((v) => ({ ...v, [name]: e.target.value })),
  });
  return (
    <form ref={form} className="card" onSubmit={submit} noValidate aria-labelledby="password-title">
      {errorSummary}
      <h2 id="password-title">{t("account.password.title")}</h2>
      <ErrorSummary errors={errors} labels={labels} idPrefix="password" />
      {change.isSuccess && <p className="alert alert--ok" role="status">{t("account.password.done")}</p>}
      <Field {...bind("current")} autoComplete="current-password" />
      <Field {...bind("new")} autoComplete="new-password" hint={t("field.password.hint")} />
      <Field {...bind("confirm")} autoComplete="new-password" />
      <FormError error={formLevel(change.error, remote)} />
      <button className="button" type="submit" disabled={change.isPending}>{t("account.password.submit")}</button>
    </form>
  );
}

function sessionName(s: Schemas["SessionView"], t: Translate): string {
  const what = s.kind === "bearer" ? t("account.sessions.bearer", { name: s.name ?? "" }) : t("account.sessions.cookie");
  return `${what} · ${s.user_agent ?? t("account.sessions.unknown_agent")}`;
}

function Sessions() {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const sessions = useQuery({ queryKey: ["sessions"], queryFn: () => unwrap(api.GET("/api/v1/me/sessions")) });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/me/sessions/{session_id}", { params: { path: { session_id: id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["sessions"] }),
  });
  return (
    <section className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">{t("account.sessions.title")}</h2>
      <p>{t("account.sessions.intro")}</p>
      {revoke.isSuccess && <p className="alert alert--ok" role="status">{t("account.sessions.revoked")}</p>}
      <FormError error={sessions.error ?? revoke.error} />
      {sessions.data && (
        <ul className="plain-list sessions">
          {sessions.data.map((s) => {
            const name = sessionName(s, t);
            return (
              <li key={s.id} className="session">
                <p className="session-name">
                  <strong>{name}</strong>
                  {s.current && <span className="badge badge--active"> {t("account.sessions.current")}</span>}
                </p>
                <p className="muted">
                  {t("account.sessions.created", { date: dateTime(s.created_at, lang) })} ·{" "}
                  {t("account.sessions.last_used", { date: dateTime(s.last_used_at, lang) })} ·{" "}
                  {t("account.sessions.expires", { date: dateTime(s.expires_at, lang) })}
                </p>
                {!s.current && (
                  <ConfirmButton label={t("account.sessions.revoke")}
                    question={t("account.sessions.revoke_confirm", { what: name })}
                    confirm={t("account.sessions.revoke")} onConfirm={() => revoke.mutate(s.id)}
                    busy={revoke.isPending} />
                )}
              </li>
            );
          })}
        </ul>
      )}
      {sessions.data?.length === 1 && <p>{t("account.sessions.none")}</p>}
    </section>
  );
}

export function useNotifications() {
  return useQuery({ queryKey: ["notifications"], queryFn: () => unwrap(api.GET("/api/v1/me/notifications")) });
}

export default function AccountPage({ account }: { account: Account }) {
  const { t } = useI18n();
  const notes = useNotifications();
  const unread = notes.data?.filter((n) => !n.read_at).length ?? 0;
  return (
    <div className="account">
      <h1>{t("account.title")}</h1>
      <nav aria-label={t("account.more")} className="card">
        <ul className="plain-list links">
          <li>
            <Link to="/notifications">
              {unread ? t("account.notifications_unread", { n: unread }) : t("account.notifications_link")}
            </Link>
          </li>
          <li>
            <Link to="/preferences">{t("account.preferences_link")}</Link>
          </li>
          <li>
            <Link to="/tenancy">{t("account.tenancy_link")}</Link>
          </li>
        </ul>
      </nav>
      <LanguageForm account={account} />
      <EmailForm account={account} />
      <PasswordForm />
      <Sessions />
    </div>
  );
}
