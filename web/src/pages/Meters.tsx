import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMeters } from "../api/queries";
import { api, unwrap, type Account, type MeterView } from "../api/client";
import { AddressHold, addressHeld } from "../components/AddressHold";
import { ConfirmButton } from "../components/Confirm";
import { Freshness, dsoName } from "../components/Freshness";
import { Field, FormError, Select, fieldError, useErrorSummary } from "../components/Form";
import { day } from "../format";
import { errorMessage, useI18n, type Key } from "../i18n";
import { Link, useLocation } from "../router";
import { VerifyNotice } from "./AccountLinks";
import { MeterHelp, OnboardingSteps } from "./Onboarding";
import * as curveMessages from "../messages/loadcurve";
import { addMessages } from "../messages";
import * as localMessages from "../messages/local";

addMessages(localMessages);

addMessages(curveMessages);

const FINAL = new Set(["refused", "invalid", "timed_out", "revoked", "expired"]);

/** What a meter's first data waits for while its consent is not given yet (the DSO's date comes once it is). */
function firstDataAfter(meter: MeterView): Key {
  if (meter.consent?.warnings.includes("dso_confirming")) return "consent.first_data_after.confirming";
  if (meter.channel === "dataconnect") return "consent.first_data_after.dataconnect";
  if (meter.channel === "adict") return "consent.first_data_after.adict";
  return "consent.first_data_after.other";
}
// Who distributes what, as the resident picks it: the national DSOs and Grenoble's own operators.
const SUPPLIERS = [
  { key: "enedis-electricity", dso: "enedis", energy: "electricity", name: "Enedis", hint: "meters.identifier.hint.enedis" },
  { key: "grdf-gas", dso: "grdf", energy: "gas", name: "GRDF", hint: "meters.identifier.hint.grdf" },
  { key: "greenalp-electricity", dso: "greenalp", energy: "electricity", name: "GreenAlp", hint: "local.hint.greenalp_electricity" },
  { key: "greenalp-gas", dso: "greenalp", energy: "gas", name: "GreenAlp", hint: "local.hint.greenalp_gas" },
  { key: "cciag-heat", dso: "cciag", energy: "heat", name: "CCIAG", hint: "local.hint.cciag_heat" },
  { key: "eau_de_grenoble-water", dso: "eau_de_grenoble", energy: "water", name: "Eau de Grenoble", hint: "local.hint.water" },
] as const;
type Supplier = (typeof SUPPLIERS)[number];
const LOCAL_OPERATORS = new Set(["greenalp", "cciag", "eau_de_grenoble"]);


function goToConsentPage(url: string | null | undefined): boolean {
  if (!url) return false;
  window.location.assign(url);
  return true;
}

function DeclareMeter({ onboarding }: { onboarding: boolean }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const [supplier, setSupplier] = useState<Supplier>(SUPPLIERS[0]);
  const [identifier, setIdentifier] = useState("");
  const [label, setLabel] = useState("");
  const [holder, setHolder] = useState({ holder_name: "", postal_code: "", email: "" });
  const [local, setLocal] = useState({ contract_reference: "", holder_name: "" });
  const [redirecting, setRedirecting] = useState(false);
  const isLocal = LOCAL_OPERATORS.has(supplier.dso);
  const declare = useMutation({
    mutationFn: () => {
      const base = { energy: supplier.energy, dso: supplier.dso, identifier, label: label.trim() || null };
      const body =
        supplier.dso === "grdf" ? { ...base, grdf_holder: holder } : isLocal ? { ...base, local_holder: local } : base;
      // The schema's variants tie each DSO to its energy and holder; SUPPLIERS lists only those pairs.
      return unwrap(api.POST("/api/v1/meters", { body: body as never }));
    },
    onSuccess: (meter) => {
      client.invalidateQueries({ queryKey: ["meters"] });
      if (goToConsentPage(meter.consent?.authorize_url)) setRedirecting(true);
      else setIdentifier("");
    },
  });
  const form = useRef<HTMLFormElement>(null);
  const summary = useErrorSummary(form, declare.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    declare.mutate();
  };
  const bindHolder = (name: keyof typeof holder) => ({
    value: holder[name],
    onChange: (e: { target: { value: string } }) => setHolder((h) => ({ ...h, [name]: e.target.value })),
    error: fieldError(declare.error, name, t),
  });
  const bindLocal = (name: keyof typeof local) => ({
    value: local[name],
    onChange: (e: { target: { value: string } }) => setLocal((h) => ({ ...h, [name]: e.target.value })),
    error: fieldError(declare.error, name, t),
  });
  return (
    <form ref={form} onSubmit={submit} noValidate className="card" aria-labelledby="declare-title">
      <h2 id="declare-title">{t("meters.declare")}</h2>
      {summary}
      <p>{t("meters.declare.intro")}</p>
      <Select label={t("local.supplier")} name="supplier" value={supplier.key}
        onChange={(e) => setSupplier(SUPPLIERS.find((x) => x.key === e.target.value) ?? SUPPLIERS[0])}>
        {SUPPLIERS.map((x) => (
          <option key={x.key} value={x.key}>
            {t(`energy.${x.energy}` as Key)} — {x.name}
          </option>
        ))}
      </Select>
      <Field label={t("meters.identifier")} name="identifier"
        inputMode={supplier.energy === "electricity" && supplier.dso === "enedis" ? "numeric" : "text"}
        autoComplete="off" hint={t(supplier.hint)}
        value={identifier} onChange={(e) => setIdentifier(e.target.value)}
        error={fieldError(declare.error, "identifier", t)} />
      <details className="help-details" open={onboarding}>
        <summary>{t(supplier.energy === "gas" ? "help.pce.where" : "help.prm.where")}</summary>
        <MeterHelp energy={supplier.energy === "gas" ? "gas" : "electricity"} />
      </details>
      <Field label={t("meters.label")} name="label" optional value={label} onChange={(e) => setLabel(e.target.value)}
        error={fieldError(declare.error, "label", t)} />
      {isLocal && (
        <fieldset>
          <legend>{t("local.holder.legend", { operator: supplier.name })}</legend>
          <p className="muted">{t("local.holder.intro", { operator: supplier.name })}</p>
          <Field label={t("local.contract_reference")} autoComplete="off" hint={t("local.contract_reference.hint")}
            {...bindLocal("contract_reference")} />
          <Field label={t("local.holder_name")} autoComplete="name" {...bindLocal("holder_name")} />
        </fieldset>
      )}
      {supplier.dso === "grdf" && (
        <fieldset>
          <legend>GRDF</legend>
          <Field label={t("meters.holder_name")} autoComplete="name" {...bindHolder("holder_name")} />
          <Field label={t("meters.holder_postal_code")} inputMode="numeric" autoComplete="postal-code"
            {...bindHolder("postal_code")} />
          <Field label={t("meters.holder_email")} type="email" autoComplete="email" {...bindHolder("email")} />
        </fieldset>
      )}
      <FormError error={declare.error} />
      {redirecting && (
        <div className="alert alert--info" role="status">
          {t("meters.redirecting")}
        </div>
      )}
      <button className="button" type="submit" disabled={declare.isPending || redirecting}>
        {t("meters.submit")}
      </button>
    </form>
  );
}

function MeterCard({ meter, highlight }: { meter: MeterView; highlight: boolean }) {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const status = meter.consent?.status ?? "none";
  const revoke = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/v1/meters/{meter_id}/consent", { params: { path: { meter_id: meter.id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["meters"] }),
  });
  const renew = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/meters/{meter_id}/consent", { params: { path: { meter_id: meter.id } } })),
    onSuccess: (consent) => {
      if (!goToConsentPage((consent as { authorize_url?: string | null }).authorize_url)) {
        client.invalidateQueries({ queryKey: ["meters"] });
      }
    },
  });
  const dso = dsoName(meter.dso);
  const contract = meter.contract && meter.contract.origin !== "assumed" ? meter.contract : null;
  const title = meter.label || `${t(`energy.${meter.energy}` as Key)} · ${dso}`;
  return (
    <li className={`card meter${highlight ? " meter--highlight" : ""}`} data-meter={meter.id}>
      <div className="meter-head">
        <h3>{title}</h3>
        <span className={`badge badge--${status}`}>
          {t("consent.status")} : {t(`consent.${status}` as Key)}
        </span>
      </div>
      <dl className="facts">
        <div>
          <dt>{t("meters.identifier")}</dt>
          <dd className="mono">{meter.identifier}</dd>
        </div>
        {meter.consent?.expires_at && (
          <div>
            <dt>{t("consent.status")}</dt>
            <dd>{t("consent.expires", { date: day(meter.consent.expires_at, lang) })}</dd>
          </div>
        )}
        <div>
          <dt>{t("meters.data")}</dt>
          <dd>
            {meter.last_collected_day
              ? t("consent.last_day", { date: day(meter.last_collected_day, lang) })
              : meter.first_data_by
                ? t("consent.first_data_by", { date: day(meter.first_data_by, lang), dso })
                : status === "awaiting_holder" || status === "requested"
                  ? t(firstDataAfter(meter), { dso })
                  : t("consent.no_data_yet")}
          </dd>
        </div>
        {meter.next_update_at && (
          <div>
            <dt>{t("meters.next_update")}</dt>
            <dd>{t("meters.next_update_at", { date: day(meter.next_update_at, lang) })}</dd>
          </div>
        )}
        {contract && (
          <div>
            <dt>{t("meters.contract")}</dt>
            <dd>
              {t(contract.origin === "dso" ? "meters.contract.dso" : "meters.contract.resident", {
                contract: contract.subscribed_kva
                  ? `${contract.tariff_option} · ${contract.subscribed_kva} kVA`
                  : contract.tariff_option,
                dso,
              })}
            </dd>
          </div>
        )}
      </dl>
      <Freshness meter={meter} dso={dso} />
      {meter.channel === "file" && status === "requested" && (
        <div className="alert alert--info" role="status">
          {t("local.awaiting_operator", { dso })}
        </div>
      )}
      {meter.consent?.reason === "holder_mismatch" && (
        <div className="alert alert--error" role="alert">
          {t("local.holder_mismatch", { dso })}
        </div>
      )}
      {meter.consent?.warnings.includes("dso_confirming") && (
        <div className="alert alert--info" role="status">
          {t("consent.dso_confirming")}
        </div>
      )}
      {addressHeld(meter) && <AddressHold meter={meter} />}
      {revoke.isSuccess && (
        <div className="alert alert--ok" role="status">
          {t("consent.revoked_done")}
        </div>
      )}
      {(revoke.error || renew.error) && (
        <div className="alert alert--error" role="alert">
          {errorMessage(t, (revoke.error ?? renew.error)!.code)}
        </div>
      )}
      <ul className="plain-list meter-links">
        {meter.energy === "electricity" && (
          <li>
            <Link to={`/meters/${meter.id}/contract`}>
              {t("contract.link")}<span className="visually-hidden"> · {meter.identifier}</span>
            </Link>
          </li>
        )}
        <li>
          <Link to={`/meters/${meter.id}/consents`}>
            {t("consents.link")}<span className="visually-hidden"> · {meter.identifier}</span>
          </Link>
        </li>
      </ul>
      <div className="actions">
        {meter.energy === "electricity" && (meter.channel === "dataconnect" || meter.channel === "sge") && (
          <Link to={`/load-curve?meter=${meter.id}`} className="button button--ghost">
            {t("curve.link")}
          </Link>
        )}
        {FINAL.has(status) || status === "none" ? (
          <button type="button" className="button" onClick={() => renew.mutate()} disabled={renew.isPending}>
            {t("consent.renew")}
          </button>
        ) : (
          <ConfirmButton label={t("consent.revoke")} question={t("consent.revoke.confirm", { identifier: meter.identifier })}
            confirm={t("consent.revoke")} onConfirm={() => revoke.mutate()} busy={revoke.isPending} />
        )}
      </div>
    </li>
  );
}

export default function Meters({ account }: { account: Account }) {
  const { t } = useI18n();
  const location = useLocation();
  const meters = useMeters();
  const callback = location.searchParams.get("consent");
  const callbackMeter = location.searchParams.get("meter");
  const onboarding = location.searchParams.has("onboarding");
  return (
    <div>
      <h1>{t("meters.title")}</h1>
      {onboarding && <OnboardingSteps current={2} />}
      <VerifyNotice account={account} />
      {callback && (
        <div className={`alert ${callback === "active" ? "alert--ok" : "alert--info"}`} role="status">
          {callback === "active"
            ? t("consent.callback.active")
            : callback === "refused"
              ? t("consent.callback.refused")
              : t("consent.callback.other", { status: t(`consent.${callback}` as Key) })}
        </div>
      )}
      {meters.error && <FormError error={meters.error} />}
      {meters.data && meters.data.length === 0 && <p>{t("meters.none")}</p>}
      {meters.data && meters.data.length > 0 && (
        <ul className="meters">
          {meters.data.map((m) => (
            <MeterCard key={m.id} meter={m} highlight={m.id === callbackMeter} />
          ))}
        </ul>
      )}
      <DeclareMeter onboarding={onboarding || meters.data?.length === 0} />
      {onboarding && (
        <p>
          <Link to="/">{t("onboarding.later")}</Link>
        </p>
      )}
    </div>
  );
}
