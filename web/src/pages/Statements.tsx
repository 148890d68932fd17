import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type MeterView, type Schemas } from "../api/client";
import { Field, FormError, Select, fieldError, useErrorSummary } from "../components/Form";
import { day, isoDay, kwh } from "../format";
import { errorMessage, useI18n, type Key } from "../i18n";
import { useMeters } from "../api/queries";
import * as messages from "../messages/statements";
import { addMessages } from "../messages";

addMessages(messages);

type Statement = Schemas["StatementView"];
type Energy = "electricity" | "gas" | "heat" | "water" | "fuel_oil" | "wood";
const ENERGIES: Energy[] = ["electricity", "gas", "fuel_oil", "wood", "heat", "water"];
// How each energy is stated, as the API takes it: an index in its unit, or a delivery.
const INDEX_UNIT: Partial<Record<Energy, "kWh" | "m3">> = { electricity: "kWh", heat: "kWh", gas: "m3", water: "m3" };
const DELIVERY_UNITS: Partial<Record<Energy, ("L" | "stere" | "kg")[]>> = { fuel_oil: ["L"], wood: ["stere", "kg"] };
// The accuracy control's findings: the statement is kept only once the resident confirms it.
const CHECKS = new Set(["statement_above_history", "statement_below_history", "statement_above_peers",
                        "statement_above_plausible_bound"]);
// Refusals about one input, so that the message sits next to it and focus goes there.
const FIELD_OF: Record<string, string> = {
  index_decreasing: "value", statement_kind_not_for_energy: "value", statement_in_future: "taken_on",
  statement_too_old: "taken_on", statement_already_on_day: "taken_on", unit_not_for_energy: "unit",
  conversion_coefficient_required: "conversion_coefficient", meter_change_not_declared: "old_meter_last_index",
};

/** The message next to a form field; `value` is the API's `index` or `quantity`. */
function errorOn(error: unknown, field: string, apiField: string, t: ReturnType<typeof useI18n>["t"]) {
  if (error instanceof ApiError && FIELD_OF[error.code] === field) return errorMessage(t, error.code);
  return fieldError(error, apiField, t);
}

function DeclareManualMeter() {
  const { t } = useI18n();
  const client = useQueryClient();
  const [energy, setEnergy] = useState<Energy>("fuel_oil");
  const [label, setLabel] = useState("");
  const form = useRef<HTMLFormElement>(null);
  const declare = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/meters", { body: { energy, dso: "manual", label: label.trim() || null } })),
    onSuccess: () => {
      setLabel("");
      client.invalidateQueries({ queryKey: ["meters"] });
    },
  });
  const errorSummary = useErrorSummary(form, declare.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    declare.mutate();
  };
  return (
    <form ref={form} onSubmit={submit} noValidate className="card" aria-labelledby="manual-declare-title">
      {errorSummary}
      <h2 id="manual-declare-title">{t("statements.declare")}</h2>
      <Select label={t("statements.energy")} name="energy" value={energy}
        onChange={(e) => setEnergy(e.target.value as Energy)}>
        {ENERGIES.map((e) => (
          <option key={e} value={e}>
            {t(`energy.${e}` as Key)}
          </option>
        ))}
      </Select>
      <Field label={t("statements.label")} name="label" optional value={label} maxLength={80}
        onChange={(e) => setLabel(e.target.value)} error={fieldError(declare.error, "label", t)} />
      <FormError error={declare.error} />
      {declare.isSuccess && (
        <div className="alert alert--ok" role="status">
          {t("statements.declared")}
        </div>
      )}
      <button className="button" type="submit" disabled={declare.isPending}>
        {t("statements.declare.submit")}
      </button>
    </form>
  );
}

const EMPTY = { taken_on: "", value: "", unit: "", conversion_coefficient: "", meter_change: false,
                old_meter_last_index: "", new_meter_first_index: "" };
type Form = typeof EMPTY;

/** Numbers as typed, with a French decimal comma; the API refuses what is not a number, with its field. */
const number = (s: string) => (s.trim() === "" ? null : s.trim().replace(/\s/g, "").replace(",", "."));

function body(energy: Energy, form: Form, confirmed: boolean) {
  const delivery = energy in DELIVERY_UNITS;
  const b: Record<string, unknown> = { taken_on: form.taken_on, confirmed };
  if (delivery) {
    b.quantity = number(form.value);
    b.unit = form.unit || (DELIVERY_UNITS[energy]!.length === 1 ? DELIVERY_UNITS[energy]![0] : null);
  } else {
    b.index = number(form.value);
    if (energy === "gas" && number(form.conversion_coefficient)) b.conversion_coefficient = number(form.conversion_coefficient);
    if (form.meter_change) {
      b.meter_change = true;
      if (number(form.old_meter_last_index)) b.old_meter_last_index = number(form.old_meter_last_index);
      if (number(form.new_meter_first_index)) b.new_meter_first_index = number(form.new_meter_first_index);
    }
  }
  return b as Schemas["StatementCreate"];
}

function StatementForm({ meter }: { meter: MeterView }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const energy = meter.energy as Energy;
  const delivery = energy in DELIVERY_UNITS;
  const [form, setForm] = useState<Form>({ ...EMPTY, taken_on: isoDay(new Date()) });
  const element = useRef<HTMLFormElement>(null);
  const save = useMutation({
    mutationFn: (confirmed: boolean) =>
      unwrap(api.POST("/api/v1/meters/{meter_id}/statements", {
        params: { path: { meter_id: meter.id } }, body: body(energy, form, confirmed) })),
    // A meter declared a moment ago may not have reached every service yet (503 meter_being_set_up).
    retry: (count, error) => count < 5 && error instanceof ApiError && error.code === "meter_being_set_up",
    retryDelay: 1500,
    onSuccess: () => {
      setForm({ ...EMPTY, taken_on: isoDay(new Date()) });
      client.invalidateQueries({ queryKey: ["statements", meter.id] });
    },
  });
  const check = save.error instanceof ApiError && CHECKS.has(save.error.code) ? save.error : null;
  const errorSummary = useErrorSummary(element, save.error);
  const bind = (name: keyof Form) => ({
    name,
    value: form[name] as string,
    onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [name]: e.target.value })),
    error: errorOn(save.error, name, name === "value" ? (delivery ? "quantity" : "index") : name, t),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(false);
  };
  const unit = INDEX_UNIT[energy];
  const fieldLevel = save.error instanceof ApiError && (FIELD_OF[save.error.code] || save.error.field);
  return (
    <form ref={element} onSubmit={submit} noValidate className="statement-form"
      aria-labelledby={`add-${meter.id}`}>
      {errorSummary}
      <h3 id={`add-${meter.id}`}>{t("statements.add")}</h3>
      <Field label={t(delivery ? "statements.date.delivery" : "statements.date.index")} type="date"
        max={isoDay(new Date())} {...bind("taken_on")} />
      {delivery ? (
        <>
          <Field label={t("statements.quantity")} hint={t("statements.quantity.hint")} inputMode="decimal"
            autoComplete="off" {...bind("value")} />
          {DELIVERY_UNITS[energy]!.length > 1 && (
            <Select label={t("statements.unit")} {...bind("unit")}>
              <option value="">—</option>
              {DELIVERY_UNITS[energy]!.map((u) => (
                <option key={u} value={u}>
                  {t(`statements.unit.${u}` as Key)}
                </option>
              ))}
            </Select>
          )}
        </>
      ) : (
        <>
          <Field label={t("statements.index", { unit: t(`statements.unit.${unit}` as Key) })}
            hint={t("statements.index.hint")} inputMode="decimal" autoComplete="off" {...bind("value")} />
          {energy === "gas" && (
            <Field label={t("statements.coefficient")} hint={t("statements.coefficient.hint")} inputMode="decimal"
              optional autoComplete="off" {...bind("conversion_coefficient")} />
          )}
          <div className="field field--check">
            <input id={`change-${meter.id}`} type="checkbox" checked={form.meter_change}
              onChange={(e) => setForm((f) => ({ ...f, meter_change: e.target.checked }))} />
            <label htmlFor={`change-${meter.id}`}>{t("statements.meter_change")}</label>
          </div>
          {form.meter_change && (
            <fieldset>
              <legend>{t("statements.meter_change")}</legend>
              <Field label={t("statements.old_last")} hint={t("statements.old_last.hint")} inputMode="decimal"
                optional autoComplete="off" {...bind("old_meter_last_index")} />
              <Field label={t("statements.new_first")} inputMode="decimal" optional autoComplete="off"
                {...bind("new_meter_first_index")} />
            </fieldset>
          )}
        </>
      )}
      {check ? (
        <div className="alert alert--info" role="alert" data-check={check.code}>
          <h4>{t("statements.check.title")}</h4>
          <p>{errorMessage(t, check.code)}</p>
          <p className="hint">{check.detail}</p>
          <p>{t("statements.check.fix")}</p>
          <button type="button" className="button" onClick={() => save.mutate(true)} disabled={save.isPending}>
            {t("statements.check.confirm")}
          </button>
        </div>
      ) : (
        save.error && (fieldLevel ? (
          <div className="alert alert--error" role="alert">
            {t("error.summary")} {errorMessage(t, (save.error as ApiError).code)}
          </div>
        ) : (
          <FormError error={save.error} />
        ))
      )}
      {save.isSuccess && (
        <div className="alert alert--ok" role="status">
          {t("statements.saved")}
        </div>
      )}
      <button className="button" type="submit" disabled={save.isPending}>
        {t("statements.submit")}
      </button>
    </form>
  );
}

function used(s: Statement, lang: "fr" | "en"): string {
  if (s.amount == null) return "";
  if (s.amount_unit === "L") return `${(s.amount / 1000).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB", { maximumFractionDigits: 1 })} m³`;
  return kwh(s.amount, lang);
}

function StatementList({ meter }: { meter: MeterView }) {
  const { t, lang } = useI18n();
  const statements = useQuery({
    queryKey: ["statements", meter.id],
    queryFn: () =>
      unwrap(api.GET("/api/v1/meters/{meter_id}/statements", { params: { path: { meter_id: meter.id } } })),
  });
  if (statements.error) return <FormError error={statements.error} />;
  if (!statements.data) return <p>{t("app.loading")}</p>;
  if (statements.data.length === 0) return <p>{t("statements.list.empty")}</p>;
  const fmt = (v: string | number) =>
    Number(v).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB", { maximumFractionDigits: 3 });
  return (
    <>
      <h3>{t("statements.list")}</h3>
      <ol className="statements">
        {[...statements.data].reverse().map((s) => (
          <li key={s.id} data-statement={s.taken_on}>
            <strong>{day(s.taken_on, lang)}</strong>
            {" · "}
            {t(s.kind === "delivery" ? "statements.item.delivery" : "statements.item.index",
               { value: fmt(s.value), unit: t(`statements.unit.${s.unit}` as Key) })}
            {" · "}
            {s.amount != null
              ? t("statements.item.used", { amount: used(s, lang), days: s.days ?? 0 })
              : t(s.meter_change ? "statements.item.unknown" : "statements.item.start")}
            {s.meter_change && s.amount != null && ` · ${t("statements.item.meter_change")}`}
            {s.confirmed_check && ` · ${t("statements.item.confirmed")}`}
          </li>
        ))}
      </ol>
    </>
  );
}

function ManualMeter({ meter }: { meter: MeterView }) {
  const { t } = useI18n();
  const title = meter.label || t(`energy.${meter.energy}` as Key);
  return (
    <li className="card meter" data-meter={meter.id}>
      <h2>{title}</h2>
      <p className="hint">{t(`energy.${meter.energy}` as Key)}</p>
      <StatementList meter={meter} />
      {(meter.consent?.status === "active" || meter.consent?.status === "expiring") && <StatementForm meter={meter} />}
    </li>
  );
}

export default function Statements() {
  const { t } = useI18n();
  const meters = useMeters();
  const manual = (meters.data ?? []).filter((m) => m.channel === "manual");
  return (
    <div>
      <h1>{t("statements.title")}</h1>
      <p>{t("statements.intro")}</p>
      {meters.error && <FormError error={meters.error} />}
      {meters.data && manual.length === 0 && <p>{t("statements.none")}</p>}
      {manual.length > 0 && (
        <ul className="meters">
          {manual.map((m) => (
            <ManualMeter key={m.id} meter={m} />
          ))}
        </ul>
      )}
      <DeclareManualMeter />
    </div>
  );
}
