import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Account } from "../api/client";
import { Field, FormError, fieldError, useErrorSummary } from "../components/Form";
import { useI18n } from "../i18n";
import { Link } from "../router";

/** The token of an e-mailed link: it travels in the fragment, which no server sees; dropped from the address bar. */
function useLinkToken(): string | null {
  const [token] = useState(() => new URLSearchParams(location.hash.slice(1)).get("token"));
  useEffect(() => {
    if (location.hash) history.replaceState(null, "", location.pathname);
  }, []);
  return token;
}

function MissingToken() {
  const { t } = useI18n();
  return (
    <div className="alert alert--error" role="alert">
      {t("link.missing")}
    </div>
  );
}

export function VerifyEmail({ account }: { account: Account | null }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const token = useLinkToken();
  const sent = useRef(false);
  const verify = useMutation({
    mutationFn: (value: string) => unwrap(api.POST("/api/v1/auth/email-verification", { body: { token: value } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["me"] }),
  });
  useEffect(() => {
    if (token && !sent.current) {
      sent.current = true;
      verify.mutate(token);
    }
  }, [token, verify]);
  return (
    <div className="auth auth--narrow">
      <h1>{t("verify.title")}</h1>
      {!token && <MissingToken />}
      {verify.isPending && <p role="status">{t("verify.working")}</p>}
      {verify.isSuccess && (
        <>
          <div className="alert alert--ok" role="status">
            {t("verify.done", { email: verify.data.email })}
          </div>
          <p>
            {account ? <Link to="/meters">{t("verify.continue")}</Link> : <Link to="/login">{t("login.submit")}</Link>}
          </p>
        </>
      )}
      <FormError error={verify.error} />
    </div>
  );
}

export function ForgotPassword() {
  const { t } = useI18n();
  const [email, setEmail] = useState("");
  const ask = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/password-reset", { body: { email } })),
  });
  const form = useRef<HTMLFormElement>(null);
  const summary = useErrorSummary(form, ask.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    ask.mutate();
  };
  return (
    <div className="auth auth--narrow">
      <h1>{t("forgot.title")}</h1>
      <p>{t("forgot.intro")}</p>
      {ask.isSuccess ? (
        <div className="alert alert--ok" role="status">
          {t("forgot.sent")}
        </div>
      ) : (
        <form ref={form} onSubmit={submit} noValidate className="card" aria-label={t("forgot.title")}>
          {summary}
          <Field label={t("field.email")} type="email" name="email" autoComplete="email" value={email}
            onChange={(e) => setEmail(e.target.value)} error={fieldError(ask.error, "email", t)} />
          <FormError error={ask.error} />
          <button className="button" type="submit" disabled={ask.isPending}>
            {t("forgot.submit")}
          </button>
        </form>
      )}
      <p>
        <Link to="/login">{t("login.submit")}</Link>
      </p>
    </div>
  );
}

export function ResetPassword() {
  const { t } = useI18n();
  const client = useQueryClient();
  const token = useLinkToken();
  const [password, setPassword] = useState("");
  const reset = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/password-reset/confirm", { body: { token: token ?? "", password } })),
    onSuccess: () => {
      // Every session of the account has just ended, this browser's included.
      client.clear();
      client.setQueryData(["me"], { account: null, expired: false });
    },
  });
  const form = useRef<HTMLFormElement>(null);
  const summary = useErrorSummary(form, reset.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    reset.mutate();
  };
  return (
    <div className="auth auth--narrow">
      <h1>{t("reset.title")}</h1>
      {!token && <MissingToken />}
      {reset.isSuccess ? (
        <>
          <div className="alert alert--ok" role="status">
            {t("reset.done")}
          </div>
          <p>
            <Link to="/login">{t("login.submit")}</Link>
          </p>
        </>
      ) : (
        token && (
          <form ref={form} onSubmit={submit} noValidate className="card" aria-label={t("reset.title")}>
            {summary}
            <Field label={t("reset.field")} type="password" name="password" autoComplete="new-password"
              hint={t("field.password.hint")} value={password} onChange={(e) => setPassword(e.target.value)}
              error={fieldError(reset.error, "password", t)} />
            <FormError error={reset.error} />
            <button className="button" type="submit" disabled={reset.isPending}>
              {t("reset.submit")}
            </button>
            <p>
              <Link to="/forgot-password">{t("login.forgot")}</Link>
            </p>
          </form>
        )
      )}
    </div>
  );
}

/** On the meters page until the address is verified: a consent needs it. */
export function VerifyNotice({ account }: { account: Account }) {
  const { t } = useI18n();
  const resend = useMutation({ mutationFn: () => unwrap(api.POST("/api/v1/me/email/verification")) });
  if (account.email_verified) return null;
  return (
    <div className="alert alert--info">
      <p>{t("verify.notice", { email: account.email })}</p>
      {resend.isSuccess ? (
        <p role="status">{t("verify.resent")}</p>
      ) : (
        <button type="button" className="button" onClick={() => resend.mutate()} disabled={resend.isPending}>
          {t("verify.resend")}
        </button>
      )}
      <FormError error={resend.error} />
    </div>
  );
}
