import { useEffect, useId, useState, type InputHTMLAttributes, type RefObject, type ReactNode, type SelectHTMLAttributes } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Account } from "../api/client";
import { errorMessage, useI18n } from "../i18n";

/** The message shown next to a field when the API's error is about that field. */
export function fieldError(error: unknown, field: string, t: ReturnType<typeof useI18n>["t"]): string | undefined {
  if (!(error instanceof ApiError) || error.field !== field) return undefined;
  if (field === "email" && error.code === "invalid_field") return t("error.invalid_email");
  return errorMessage(t, error.code);
}

type Problem = { id: string; label: string; message: string };

/**
 * After a refused submission: an error summary at the top of the form lists each field in error as a link to it,
 * and focus goes to the first field in error (or else to the form's message), so that a screen reader reads what
 * to correct. `attempt` changes at each refusal. Returns the summary, to be placed first in the form.
 */
export function useErrorSummary(form: RefObject<HTMLElement | null>, attempt: unknown): ReactNode {
  const { t } = useI18n();
  const [problems, setProblems] = useState<Problem[]>([]);
  useEffect(() => {
    if (!form.current) return;
    if (!attempt) {
      setProblems([]);
      return;
    }
    const invalid = [...form.current.querySelectorAll<HTMLElement>('[aria-invalid="true"]')];
    setProblems(
      invalid.map((field) => ({
        id: field.id,
        label: form.current!.querySelector(`label[for="${CSS.escape(field.id)}"]`)?.firstChild?.textContent ?? "",
        message: document.getElementById(`${field.id}-error`)?.textContent ?? "",
      })),
    );
    const target = invalid[0] ?? form.current.querySelector<HTMLElement>('[role="alert"]');
    if (!target) return;
    if (!target.matches("input, select, textarea, button")) target.tabIndex = -1;
    target.focus();
  }, [form, attempt]);
  if (!problems.length) return null;
  return (
    <div className="error-summary" aria-labelledby="error-summary-title">
      <h2 id="error-summary-title">{t("errors.summary.title", { n: problems.length })}</h2>
      <ul>
        {problems.map((p) => (
          <li key={p.id}>
            <a href={`#${p.id}`} onClick={(e) => (e.preventDefault(), document.getElementById(p.id)?.focus())}>
              {t("errors.summary.item", { label: p.label, message: p.message })}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

type FieldProps = {
  label: string;
  hint?: string;
  error?: string;
  optional?: boolean;
} & InputHTMLAttributes<HTMLInputElement>;

export function Field({ label, hint, error, optional, id, ...input }: FieldProps) {
  const auto = useId();
  const fieldId = id ?? auto;
  const describedBy = [hint && `${fieldId}-hint`, error && `${fieldId}-error`].filter(Boolean).join(" ");
  const { t } = useI18n();
  return (
    <div className={`field${error ? " field--error" : ""}`}>
      <label htmlFor={fieldId}>
        {label}
        {optional && <span className="optional"> ({t("field.optional")})</span>}
      </label>
      {hint && (
        <p className="hint" id={`${fieldId}-hint`}>
          {hint}
        </p>
      )}
      <input id={fieldId} aria-invalid={error ? true : undefined} aria-describedby={describedBy || undefined}
        required={!optional} {...input} />
      {error && (
        <p className="field-error" id={`${fieldId}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

type SelectProps = {
  label: string;
  error?: string;
  optional?: boolean;
  children: ReactNode;
} & SelectHTMLAttributes<HTMLSelectElement>;

export function Select({ label, error, optional, id, children, ...select }: SelectProps) {
  const auto = useId();
  const fieldId = id ?? auto;
  const { t } = useI18n();
  return (
    <div className={`field${error ? " field--error" : ""}`}>
      <label htmlFor={fieldId}>
        {label}
        {optional && <span className="optional"> ({t("field.optional")})</span>}
      </label>
      <select id={fieldId} aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${fieldId}-error` : undefined} {...select}>
        {children}
      </select>
      {error && (
        <p className="field-error" id={`${fieldId}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A form-level message for errors that are not about one field (and a reminder for those that are). */
export function FormError({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  if (error instanceof ApiError && error.status === 401) return <ReAuth />;
  const code = error instanceof ApiError ? error.code : "network_error";
  return (
    <div className="alert alert--error" role="alert">
      {error instanceof ApiError && error.field ? `${t("error.summary")} ` : ""}
      {errorMessage(t, code)}
    </div>
  );
}

/**
 * Shown in place when the session expired while the resident was filling a form: they log in again without
 * leaving the page, so nothing they typed is lost.
 */
export function ReAuth() {
  const { t } = useI18n();
  const client = useQueryClient();
  const me = client.getQueryData<{ account: Account | null }>(["me"])?.account;
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  if (done) {
    return (
      <div className="alert alert--ok" role="status">
        {t("reauth.done")}
      </div>
    );
  }
  const submit = async () => {
    try {
      await unwrap(api.POST("/api/v1/auth/login", { body: { email: me?.email ?? "", password } }));
      setDone(true);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="alert alert--error reauth" role="alert" aria-labelledby="reauth-title">
      <h2 id="reauth-title">{t("reauth.title")}</h2>
      <p>{t("reauth.intro")}</p>
      <Field label={t("field.password")} type="password" autoComplete="current-password" value={password}
        onChange={(e) => setPassword(e.target.value)}
        onKeyDown={(e) => e.key === "Enter" && (e.preventDefault(), void submit())}
        error={error instanceof ApiError ? errorMessage(t, error.code) : undefined} />
      <button type="button" className="button" onClick={() => void submit()}>
        {t("reauth.submit")}
      </button>
    </section>
  );
}
