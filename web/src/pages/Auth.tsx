import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Terms } from "../api/client";
import type { Me } from "../App";
import { Field, FormError, fieldError, useErrorSummary } from "../components/Form";
import { useI18n } from "../i18n";
import { Link, navigate } from "../router";
import { ScrollRegion } from "../components/ScrollRegion";

function useTerms() {
  return useQuery({ queryKey: ["terms"], queryFn: () => unwrap(api.GET("/api/v1/terms/current")) });
}

export function TermsSummary({ terms }: { terms: Terms }) {
  const { t } = useI18n();
  return (
    <section className="terms" aria-labelledby="terms-title">
      <h2 id="terms-title">{t("terms.what_we_collect")}</h2>
      <p>{terms.summary}</p>
      <ScrollRegion label={t("terms.what_we_collect")}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t("terms.col.data")}</th>
              <th scope="col">{t("terms.col.why")}</th>
              <th scope="col">{t("terms.col.kept")}</th>
            </tr>
          </thead>
          <tbody>
            {terms.data_collected.map((item) => (
              <tr key={item.data}>
                <th scope="row">{item.data}</th>
                <td>{item.why}</td>
                <td>{item.kept}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <details>
        <summary>{t("terms.full_text")}</summary>
        <div className="terms-text">{terms.text}</div>
      </details>
    </section>
  );
}

export function Signup() {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const terms = useTerms();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [accepted, setAccepted] = useState(false);
  const [mustAccept, setMustAccept] = useState(false);
  const signup = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/auth/signup", {
          body: { email, password, accepted_terms_version: terms.data!.version, language: lang },
        }),
      ),
    onSuccess: (account) => {
      client.setQueryData<Me>(["me"], { account, expired: false });
      // Onboarding: the home first (its description makes the comparison possible), then the meters.
      navigate("/dwelling?onboarding=1");
    },
  });
  const form = useRef<HTMLFormElement>(null);
  const [refused, setRefused] = useState<object | null>(null);
  const summary = useErrorSummary(form, signup.error ?? refused);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setMustAccept(!accepted);
    if (!accepted) setRefused({});
    if (accepted && terms.data) signup.mutate();
  };
  return (
    <div className="auth">
      <h1>{t("signup.title")}</h1>
      <p className="lead">{t("signup.intro")}</p>
      {terms.data && <TermsSummary terms={terms.data} />}
      <form ref={form} onSubmit={submit} noValidate aria-labelledby="signup-form-title" className="card">
        <h2 id="signup-form-title" className="visually-hidden">
          {t("signup.title")}
        </h2>
        {summary}
        <Field label={t("field.email")} type="email" name="email" autoComplete="email" value={email}
          onChange={(e) => setEmail(e.target.value)} error={fieldError(signup.error, "email", t)} />
        <Field label={t("field.password")} type="password" name="password" autoComplete="new-password"
          hint={t("field.password.hint")} value={password} onChange={(e) => setPassword(e.target.value)}
          error={fieldError(signup.error, "password", t)} />
        <div className={`field field--check${mustAccept ? " field--error" : ""}`}>
          <input id="accept-terms" type="checkbox" checked={accepted} onChange={(e) => setAccepted(e.target.checked)}
            aria-invalid={mustAccept || undefined} aria-describedby={mustAccept ? "accept-terms-error" : undefined} />
          <label htmlFor="accept-terms">{t("signup.accept", { version: terms.data?.version ?? "…" })}</label>
          {mustAccept && (
            <p className="field-error" id="accept-terms-error">
              {t("signup.must_accept")}
            </p>
          )}
        </div>
        <FormError error={signup.error} />
        <button className="button" type="submit" disabled={signup.isPending || !terms.data}>
          {t("signup.submit")}
        </button>
        <p>
          {t("signup.have_account")} <Link to="/login">{t("login.submit")}</Link>
        </p>
      </form>
    </div>
  );
}

export function Login({ expired }: { expired?: boolean }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const form = useRef<HTMLFormElement>(null);
  const login = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/login", { body: { email, password } })),
    onSuccess: (account) => {
      // Another account's answers must not show; `clear()` would also detach the observed ["me"] query.
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
      client.setQueryData<Me>(["me"], { account, expired: false });
      if (location.pathname === "/login" || location.pathname === "/signup") navigate("/");
    },
  });
  const summary = useErrorSummary(form, login.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  const passwordError =
    login.error instanceof ApiError && login.error.code === "invalid_credentials"
      ? t("error.invalid_credentials")
      : undefined;
  return (
    <div className="auth auth--narrow">
      <h1>{t("login.title")}</h1>
      {expired && (
        <div className="alert alert--info" role="status">
          {t("login.expired")}
        </div>
      )}
      <form ref={form} onSubmit={submit} noValidate className="card">
        {summary}
        <Field label={t("field.email")} type="email" name="email" autoComplete="email" value={email}
          onChange={(e) => setEmail(e.target.value)} error={fieldError(login.error, "email", t)} />
        <Field label={t("field.password")} type="password" name="password" autoComplete="current-password"
          value={password} onChange={(e) => setPassword(e.target.value)} error={passwordError} />
        {!passwordError && <FormError error={login.error} />}
        <button className="button" type="submit" disabled={login.isPending}>
          {t("login.submit")}
        </button>
        <p>
          <Link to="/forgot-password">{t("login.forgot")}</Link>
        </p>
        <p>
          {t("login.no_account")} <Link to="/signup">{t("login.create")}</Link>
        </p>
      </form>
    </div>
  );
}

export function TermsReacceptance({ version }: { version: string }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const terms = useTerms();
  const accept = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/me/terms", { body: { version: terms.data?.version ?? version } })),
    onSuccess: (account) => {
      client.setQueryData(["me"], { account, expired: false });
      client.invalidateQueries({ predicate: (q) => q.queryKey[0] !== "me" });
    },
  });
  const current = terms.data?.version ?? version;
  return (
    <div className="auth">
      <h1>{t("terms.changed.title")}</h1>
      <p className="lead">{t("terms.changed.intro", { version: current })}</p>
      {terms.data && <TermsSummary terms={terms.data} />}
      <FormError error={accept.error} />
      <button className="button" type="button" onClick={() => accept.mutate()} disabled={accept.isPending}>
        {t("terms.changed.accept", { version: current })}
      </button>
    </div>
  );
}
