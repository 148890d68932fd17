import "./accountMessages";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { ErrorSummary, type FieldErrors } from "../components/ErrorSummary";
import { Field, FormError, Select, useErrorSummary } from "../components/Form";
import { dateTime, day } from "../format";
import { known, useI18n, type Key } from "../i18n";
import { Link } from "../router";
import { apiFieldErrors } from "./Account";

type Option = "BASE" | "HPHC" | "TEMPO";
const KVA = [3, 6, 9, 12, 15, 18, 24, 30, 36] as const;
type Kva = (typeof KVA)[number];
const OFFPEAK = /\d{1,2}\s*[hH:]\s*\d{0,2}\s*-\s*\d{1,2}\s*[hH:]\s*\d{0,2}/;

function useMeter(meterId: string) {
  return useQuery({ queryKey: ["meter", meterId],
                    queryFn: () => unwrap(api.GET("/api/v1/meters/{meter_id}", { params: { path: { meter_id: meterId } } })) });
}

function Back() {
  const { t } = useI18n();
  return (
    <p>
      <Link to="/meters">{t("contract.back")}</Link>
    </p>
  );
}

function contractText(c: Schemas["ContractView"], t: ReturnType<typeof useI18n>["t"]): string {
  const option = known(`contract.option.${c.tariff_option}`) ? t(`contract.option.${c.tariff_option}` as Key) : c.tariff_option;
  return [option, c.subscribed_kva && t("contract.kva.value", { kva: c.subscribed_kva }), c.offpeak_hours,
          c.supplier_offer].filter(Boolean).join(" · ");
}

/** Whether the euros are estimated, and why, as the totals of the meter say. */
function EurosState({ meterId, contract }: { meterId: string; contract: Schemas["ContractView"] }) {
  const { t } = useI18n();
  const totals = useQuery({
    queryKey: ["totals", meterId, contract.origin, contract.tariff_option, contract.subscribed_kva],
    queryFn: () => unwrap(api.GET("/api/v1/meters/{meter_id}/totals", { params: { path: { meter_id: meterId } } })),
    retry: false,
  });
  const estimated = contract.origin === "assumed" || Boolean(totals.data?.eur_estimated);
  if (!estimated) return <p className="alert alert--ok" role="status">{t("contract.exact")}</p>;
  const why = contract.origin === "assumed"
    ? t("contract.estimated.assumed")
    : t("contract.estimated.other", { method: totals.data?.eur_method ?? "" });
  return <p className="alert alert--info" role="status">{t("contract.estimated", { why })}</p>;
}

function ContractForm({ meterId, contract }: { meterId: string; contract: Schemas["ContractView"] }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const declared = contract.origin === "assumed" ? null : contract;
  const [option, setOption] = useState<Option>((declared?.tariff_option as Option) ?? "BASE");
  const [kva, setKva] = useState<Kva>((declared?.subscribed_kva as Kva) ?? 6);
  const [offpeak, setOffpeak] = useState(declared?.offpeak_hours ?? "");
  const [supplier, setSupplier] = useState(contract.supplier_offer ?? "");
  const [local, setLocal] = useState<FieldErrors>({});
  useEffect(() => {
    if (declared) {
      setOption(declared.tariff_option as Option);
      setKva((declared.subscribed_kva as Kva) ?? 6);
      setOffpeak(declared.offpeak_hours ?? "");
    }
    setSupplier(contract.supplier_offer ?? "");
  }, [contract, declared]);
  const [attempt, setAttempt] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/v1/meters/{meter_id}/contract", {
      params: { path: { meter_id: meterId } },
      body: { tariff_option: option, subscribed_kva: kva, offpeak_hours: option === "BASE" ? null : offpeak.trim(),
              supplier_offer: supplier.trim() || null },
    })),
    onSuccess: (saved) => {
      client.setQueryData(["contract", meterId], saved);
      void client.invalidateQueries({ queryKey: ["meters"] });
    },
    onError: () => setAttempt((n) => n + 1),
  });
  const remote = apiFieldErrors(save.error, { offpeak_hours_required: "offpeak_hours" }, t);
  const errors = { ...local, ...remote };
  const errorSummary = useErrorSummary(form, attempt);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    if (option !== "BASE" && !OFFPEAK.test(offpeak)) found.offpeak_hours = t("contract.offpeak.required");
    setLocal(found);
    save.reset();
    if (Object.keys(found).length) setAttempt((n) => n + 1);
    else save.mutate();
  };
  const labels = { offpeak_hours: t("contract.offpeak") };
  return (
    <form ref={form} className="card" onSubmit={submit} noValidate aria-labelledby="contract-form-title">
      {errorSummary}
      <h2 id="contract-form-title">{t("contract.save")}</h2>
      <ErrorSummary errors={errors} labels={labels} idPrefix="contract" />
      <Select label={t("contract.option")} value={option} onChange={(e) => setOption(e.target.value as Option)}>
        {(["BASE", "HPHC", "TEMPO"] as const).map((o) => (
          <option key={o} value={o}>{t(`contract.option.${o}`)}</option>
        ))}
      </Select>
      <Select label={t("contract.kva")} value={kva} onChange={(e) => setKva(Number(e.target.value) as Kva)}>
        {KVA.map((k) => (
          <option key={k} value={k}>{t("contract.kva.value", { kva: k })}</option>
        ))}
      </Select>
      {option !== "BASE" && (
        <Field id="contract-offpeak_hours" label={labels.offpeak_hours} hint={t("contract.offpeak.hint")}
          value={offpeak} onChange={(e) => setOffpeak(e.target.value)} error={errors.offpeak_hours} maxLength={80} />
      )}
      <Field id="contract-supplier_offer" label={t("contract.supplier")} hint={t("contract.supplier.hint")} optional
        value={supplier} onChange={(e) => setSupplier(e.target.value)} maxLength={120} />
      {save.isSuccess && <p className="alert alert--ok" role="status">{t("contract.saved")}</p>}
      <FormError error={Object.keys(remote).length ? null : save.error} />
      <button className="button" type="submit" disabled={save.isPending}>{t("contract.save")}</button>
    </form>
  );
}

export function Contract({ meterId }: { meterId: string }) {
  const { t } = useI18n();
  const meter = useMeter(meterId);
  const contract = useQuery({
    queryKey: ["contract", meterId],
    queryFn: () => unwrap(api.GET("/api/v1/meters/{meter_id}/contract", { params: { path: { meter_id: meterId } } })),
    enabled: meter.data?.energy === "electricity",
  });
  const c = contract.data;
  return (
    <div className="contract">
      <h1>{t("contract.title")}</h1>
      {meter.data && <p className="lead">{t("contract.meter", { identifier: meter.data.identifier })}</p>}
      <FormError error={meter.error ?? contract.error} />
      {meter.data && meter.data.energy !== "electricity" && (
        <p className="alert alert--info" role="status">{t("contract.not_electricity")}</p>
      )}
      {c && (
        <>
          <p>{t("contract.intro")}</p>
          {c.origin !== "assumed" && (
            <p>{t(c.origin === "dso" ? "contract.from_dso" : "contract.from_resident", { contract: contractText(c, t) })}</p>
          )}
          <EurosState meterId={meterId} contract={c} />
          <ContractForm meterId={meterId} contract={c} />
        </>
      )}
      <Back />
    </div>
  );
}

function actorName(actor: string, t: ReturnType<typeof useI18n>["t"]): string {
  const who = actor.split(":")[0];
  return known(`consents.actor.${who}`) ? t(`consents.actor.${who}` as Key) : actor;
}

function Evidence({ evidence }: { evidence: Record<string, unknown> }) {
  const { t } = useI18n();
  const entries = Object.entries(evidence);
  if (entries.length === 0) return <>{t("consents.no_evidence")}</>;
  return (
    <dl className="evidence">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt className="mono">{k}</dt>
          <dd className="mono">{typeof v === "string" ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

function status(s: string, t: ReturnType<typeof useI18n>["t"]): string {
  return known(`consent.${s}`) ? t(`consent.${s}` as Key) : s;
}

export function Consents({ meterId }: { meterId: string }) {
  const { t, lang } = useI18n();
  const meter = useMeter(meterId);
  const consents = useQuery({
    queryKey: ["consents", meterId],
    queryFn: () => unwrap(api.GET("/api/v1/meters/{meter_id}/consents", { params: { path: { meter_id: meterId } } })),
  });
  return (
    <div className="consents">
      <h1>{t("consents.title")}</h1>
      {meter.data && <p className="lead">{t("contract.meter", { identifier: meter.data.identifier })}</p>}
      <p>{t("consents.intro")}</p>
      <FormError error={consents.error} />
      {consents.data?.length === 0 && <p>{t("consents.none")}</p>}
      {consents.data?.map((c) => (
        <section key={c.id} className="card" aria-labelledby={`consent-${c.id}`}>
          <h2 id={`consent-${c.id}`}>
            {t("consents.consent", { date: day(c.requested_at, lang) })} ·{" "}
            <span className={`badge badge--${c.status}`}>{status(c.status, t)}</span>
          </h2>
          <dl className="facts">
            <div>
              <dt>{t("consents.channel")}</dt>
              <dd>{c.channel}</dd>
            </div>
            <div>
              <dt>{t("consents.purpose")}</dt>
              <dd>{c.purpose}</dd>
            </div>
            {c.expires_at && (
              <div>
                <dt>{t("consents.expires")}</dt>
                <dd>{day(c.expires_at, lang)}</dd>
              </div>
            )}
          </dl>
          <h3>{t("consents.history")}</h3>
          <ol className="plain-list history">
            {c.history.map((h, i) => (
              <li key={i} className="history-entry">
                <p>
                  <strong>{dateTime(h.at, lang)}</strong> ·{" "}
                  {h.from_status
                    ? t("consents.change", { from: status(h.from_status, t), to: status(h.to_status, t) })
                    : t("consents.created", { to: status(h.to_status, t) })}
                </p>
                <dl className="facts">
                  <div>
                    <dt>{t("consents.by")}</dt>
                    <dd>{actorName(h.actor, t)}</dd>
                  </div>
                  {h.reason && (
                    <div>
                      <dt>{t("consents.reason")}</dt>
                      <dd className="mono">{h.reason}</dd>
                    </div>
                  )}
                  <div>
                    <dt>{t("consents.evidence")}</dt>
                    <dd><Evidence evidence={h.evidence} /></dd>
                  </div>
                </dl>
              </li>
            ))}
          </ol>
        </section>
      ))}
      <Back />
    </div>
  );
}
