import "./accountMessages";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Schemas } from "../api/client";
import { ErrorSummary, type FieldErrors } from "../components/ErrorSummary";
import { Field, FormError, useErrorSummary } from "../components/Form";
import { dateTime } from "../format";
import { useI18n } from "../i18n";

type Prefs = Schemas["PreferencesView"];
type Kind = "anomaly" | "threshold" | "consent";
const KINDS: Kind[] = ["anomaly", "threshold", "consent"];
const MAX_THRESHOLD = 1_000_000;

function usePreferences() {
  return useQuery({ queryKey: ["preferences"], queryFn: () => unwrap(api.GET("/api/v1/me/preferences")) });
}

/** "350", "1 200,5" → a number; "" → null; anything else → NaN (refused, never saved). */
export function parseAmount(text: string): number | null {
  const clean = text.replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
  if (clean === "") return null;
  return /^\d+(\.\d+)?$/.test(clean) ? Number(clean) : NaN;
}

function Alerts({ legend, chosen, onChange, name }: { legend: string; chosen: Kind[]; name: string;
                                                      onChange: (kinds: Kind[]) => void }) {
  const { t } = useI18n();
  return (
    <fieldset className="choices">
      <legend>{legend}</legend>
      {KINDS.map((k) => (
        <div className="field field--check" key={k}>
          <input type="checkbox" id={`${name}-${k}`} checked={chosen.includes(k)}
            onChange={(e) => onChange(e.target.checked ? KINDS.filter((x) => x === k || chosen.includes(x))
                                                        : chosen.filter((x) => x !== k))} />
          <label htmlFor={`${name}-${k}`}>{t(`preferences.alert.${k}`)}</label>
        </div>
      ))}
    </fieldset>
  );
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4);
  const raw = atob(padded);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

const pushSupported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

/** This browser's push subscription, turned on and off here; the alerts pushed are chosen account-wide. */
function Push({ prefs, onSaved }: { prefs: Prefs; onSaved: (p: Prefs) => void }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const [endpoint, setEndpoint] = useState<string | null | undefined>(undefined);
  const subscriptions = useQuery({ queryKey: ["push-subscriptions"], enabled: pushSupported(),
                                   queryFn: () => unwrap(api.GET("/api/v1/me/push-subscriptions")) });
  useEffect(() => {
    if (!pushSupported()) return;
    void navigator.serviceWorker.getRegistration().then((reg) => reg?.pushManager.getSubscription())
      .then((sub) => setEndpoint(sub?.endpoint ?? null)).catch(() => setEndpoint(null));
  }, []);
  const mine = subscriptions.data?.find((s) => s.endpoint === endpoint);
  const on = Boolean(mine) && (prefs.push?.alerts?.length ?? 0) > 0;
  const savePush = async (alerts: Kind[]) => {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { unsubscribed_at: _a, unsubscribed_scope: _b, ...body } = prefs;
    onSaved(await unwrap(api.PUT("/api/v1/me/preferences", { body: { ...body, push: { alerts } } })));
  };
  const toggle = useMutation({
    mutationFn: async () => {
      if (on) {
        const reg = await navigator.serviceWorker.getRegistration();
        await (await reg?.pushManager.getSubscription())?.unsubscribe();
        if (mine) await unwrap(api.DELETE("/api/v1/me/push-subscriptions/{subscription_id}",
          { params: { path: { subscription_id: mine.id } } }));
        await savePush([]);
        setEndpoint(null);
        return;
      }
      if ((await Notification.requestPermission()) !== "granted") throw new ApiError(0, "push_denied", "");
      const { public_key } = await unwrap(api.GET("/api/v1/push/public-key"));
      const reg = await navigator.serviceWorker.ready;
      let sub: PushSubscription;
      try {
        sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) });
      } catch {
        throw new ApiError(0, "push_failed", "");
      }
      const json = sub.toJSON();
      await unwrap(api.POST("/api/v1/me/push-subscriptions", { body: {
        endpoint: sub.endpoint, keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" } } }));
      await savePush(KINDS);
      setEndpoint(sub.endpoint);
    },
    onSettled: () => client.invalidateQueries({ queryKey: ["push-subscriptions"] }),
  });
  const code = toggle.error instanceof ApiError ? toggle.error.code : null;
  return (
    <section className="card" aria-labelledby="push-title">
      <h2 id="push-title">{t("push.title")}</h2>
      <p>{t("push.intro")}</p>
      {!pushSupported() ? (
        <p className="alert alert--info" role="status">{t("push.unsupported")}</p>
      ) : (
        <>
          <p role="status">{on ? t("push.state_on") : t("push.state_off")}</p>
          {code === "push_denied" || code === "push_failed" ? (
            <p className="alert alert--error" role="alert">{t(code === "push_denied" ? "push.denied" : "push.failed")}</p>
          ) : (
            <FormError error={toggle.error} />
          )}
          <button type="button" className="button button--secondary" aria-pressed={on}
            disabled={toggle.isPending || endpoint === undefined} onClick={() => toggle.mutate()}>
            {on ? t("push.disable") : t("push.enable")}
          </button>
        </>
      )}
    </section>
  );
}

function PreferencesForm({ prefs }: { prefs: Prefs }) {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const [email, setEmail] = useState<Kind[]>((prefs.email?.alerts ?? []) as Kind[]);
  const [inApp, setInApp] = useState<Kind[]>((prefs.in_app?.alerts ?? []) as Kind[]);
  const [report, setReport] = useState(prefs.report_frequency ?? "monthly");
  const [kwh, setKwh] = useState(prefs.threshold_kwh_per_month?.toString() ?? "");
  const [eur, setEur] = useState(prefs.threshold_eur_per_month?.toString() ?? "");
  const [errors, setErrors] = useState<FieldErrors>({});
  useEffect(() => {
    // Answers restored from this browser show first; the server's, when they differ, replace them.
    setEmail((prefs.email?.alerts ?? []) as Kind[]);
    setInApp((prefs.in_app?.alerts ?? []) as Kind[]);
    setReport(prefs.report_frequency ?? "monthly");
    setKwh(prefs.threshold_kwh_per_month?.toString() ?? "");
    setEur(prefs.threshold_eur_per_month?.toString() ?? "");
  }, [prefs]);
  const [attempt, setAttempt] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  const save = useMutation({
    mutationFn: (body: Schemas["NotificationPreferences"]) => unwrap(api.PUT("/api/v1/me/preferences", { body })),
    onSuccess: (saved) => client.setQueryData(["preferences"], saved),
  });
  const undo = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/me/preferences/undo-unsubscribe")),
    onSuccess: (saved) => client.setQueryData(["preferences"], saved),
  });
  const errorSummary = useErrorSummary(form, attempt);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    const values = { kwh: parseAmount(kwh), eur: parseAmount(eur) };
    for (const [field, v] of Object.entries(values)) {
      if (v !== null && (Number.isNaN(v) || v <= 0 || v > MAX_THRESHOLD)) found[field] = t("preferences.threshold.invalid");
    }
    setErrors(found);
    if (Object.keys(found).length) {
      setAttempt((n) => n + 1);
      return;
    }
    save.mutate({ report_frequency: report, email: { alerts: email }, in_app: { alerts: inApp },
                  push: prefs.push ?? { alerts: [] }, quiet_hours: prefs.quiet_hours ?? null,
                  threshold_kwh_per_month: values.kwh, threshold_eur_per_month: values.eur });
  };
  const labels = { kwh: t("preferences.threshold_kwh"), eur: t("preferences.threshold_eur") };
  return (
    <form ref={form} className="card" onSubmit={submit} noValidate aria-labelledby="preferences-form-title">
      {errorSummary}
      <h2 id="preferences-form-title" className="visually-hidden">{t("preferences.title")}</h2>
      {prefs.unsubscribed_at && (
        <div className="alert alert--info">
          <p>{t("preferences.unsubscribed", { date: dateTime(prefs.unsubscribed_at, lang) })}</p>
          <button type="button" className="button button--secondary" onClick={() => undo.mutate()}
            disabled={undo.isPending}>
            {t("preferences.undo")}
          </button>
          <FormError error={undo.error} />
        </div>
      )}
      <ErrorSummary errors={errors} labels={labels} idPrefix="threshold" />
      <Alerts legend={t("preferences.alerts.email")} name="email" chosen={email} onChange={setEmail} />
      <Alerts legend={t("preferences.alerts.in_app")} name="in-app" chosen={inApp} onChange={setInApp} />
      <fieldset className="choices">
        <legend>{t("preferences.reports")}</legend>
        {(["weekly", "monthly", "none"] as const).map((f) => (
          <div className="field field--check" key={f}>
            <input type="radio" id={`report-${f}`} name="report" checked={report === f} onChange={() => setReport(f)} />
            <label htmlFor={`report-${f}`}>{t(`preferences.report.${f}`)}</label>
          </div>
        ))}
      </fieldset>
      <fieldset className="choices">
        <legend>{t("preferences.thresholds")}</legend>
        <p className="hint">{t("preferences.thresholds.intro")}</p>
        <Field id="threshold-kwh" label={labels.kwh} hint={t("preferences.threshold.hint")} inputMode="decimal"
          optional value={kwh} onChange={(e) => setKwh(e.target.value)} error={errors.kwh} />
        <Field id="threshold-eur" label={labels.eur} hint={t("preferences.threshold.hint")} inputMode="decimal"
          optional value={eur} onChange={(e) => setEur(e.target.value)} error={errors.eur} />
      </fieldset>
      {save.isSuccess && <p className="alert alert--ok" role="status">{t("preferences.saved")}</p>}
      <FormError error={save.error} />
      <button className="button" type="submit" disabled={save.isPending}>{t("preferences.save")}</button>
    </form>
  );
}

export default function Preferences() {
  const { t } = useI18n();
  const client = useQueryClient();
  const prefs = usePreferences();
  return (
    <div className="preferences">
      <h1>{t("preferences.title")}</h1>
      <FormError error={prefs.error} />
      {prefs.data && (
        <>
          <PreferencesForm prefs={prefs.data} />
          <Push prefs={prefs.data} onSaved={(p) => client.setQueryData(["preferences"], p)} />
        </>
      )}
    </div>
  );
}
