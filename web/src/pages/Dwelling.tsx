import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Dwelling as DwellingBody } from "../api/client";
import { AddressSearch, type AddressSuggestion } from "../components/AddressSearch";
import { Field, FormError, Select, fieldError, useErrorSummary } from "../components/Form";
import { useI18n, type Key } from "../i18n";
import { Link, navigate, useLocation } from "../router";
import { OnboardingSteps } from "./Onboarding";

type Form = Record<keyof DwellingBody, string>;
const EMPTY: Form = {
  street: "", postal_code: "", municipality: "", insee_code: "", iris_code: "", surface_m2: "", occupants: "", dwelling_type: "",
  heating_energy: "", heating_mode: "", hot_water_energy: "", construction_year: "",
};
const ENERGIES = ["electricity", "gas", "heat_network", "wood", "fuel_oil", "heat_pump", "other"] as const;
// What each number field accepts as typed: "62", "62,5" for a surface; whole numbers otherwise.
const NUMBERS: Partial<Record<keyof Form, RegExp>> = {
  surface_m2: /^\d+([.,]\d+)?$/,
  occupants: /^\d+$/,
  construction_year: /^\d{4}$/,
};

/** The number fields whose text is not a number: sent as is, "62 m²" would become NaN, then null. */
function notNumbers(form: Form): (keyof Form)[] {
  return (Object.keys(NUMBERS) as (keyof Form)[]).filter((k) => form[k].trim() && !NUMBERS[k]!.test(form[k].trim()));
}

function toBody(form: Form): DwellingBody {
  const body: Record<string, string | number | null> = {};
  for (const [k, v] of Object.entries(form)) {
    const value = v.trim();
    body[k] = value === "" ? null : k in NUMBERS ? Number(value.replace(",", ".")) : value;
  }
  return body as unknown as DwellingBody;
}

export default function Dwelling() {
  const { t } = useI18n();
  const client = useQueryClient();
  const onboarding = useLocation().searchParams.has("onboarding");
  const [form, setForm] = useState<Form>(EMPTY);
  const saved = useQuery({
    queryKey: ["dwelling"],
    queryFn: async () => {
      try {
        return await unwrap(api.GET("/api/v1/me/dwelling"));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
  });
  useEffect(() => {
    if (saved.data) {
      setForm(Object.fromEntries(Object.keys(EMPTY).map((k) => [k, String(saved.data![k as keyof DwellingBody] ?? "")])) as Form);
    }
  }, [saved.data]);
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/v1/me/dwelling", { body: toBody(form) })),
    onSuccess: (d) => {
      client.setQueryData(["dwelling"], d);
      // A corrected address may lift a meter's address hold; the comparison may now be possible.
      client.invalidateQueries({ queryKey: ["meters"] });
      client.invalidateQueries({ queryKey: ["summary"] });
      if (onboarding) navigate("/meters?onboarding=1");
    },
  });
  const [wrong, setWrong] = useState<(keyof Form)[]>([]);
  const element = useRef<HTMLFormElement>(null);
  const summary = useErrorSummary(element, wrong.length ? wrong : save.error);
  const bind = (name: keyof Form) => ({
    name,
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [name]: e.target.value })),
    error: wrong.includes(name) ? t("error.not_a_number") : fieldError(save.error, name, t),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const refused = notNumbers(form);
    setWrong(refused);
    if (refused.length) save.reset();
    else save.mutate();
  };
  const fillAddress = (a: AddressSuggestion) =>
    setForm((f) => ({ ...f, street: a.street, postal_code: a.postal_code, municipality: a.municipality,
                      insee_code: a.insee_code }));
  const energyOptions = (
    <>
      <option value="">{t("dwelling.unknown")}</option>
      {ENERGIES.map((e) => (
        <option key={e} value={e}>
          {t(`heating.${e}` as Key)}
        </option>
      ))}
    </>
  );
  return (
    <div>
      <h1>{t("dwelling.title")}</h1>
      {onboarding && <OnboardingSteps current={1} />}
      <p className="lead">{t("dwelling.intro")}</p>
      <form ref={element} onSubmit={submit} noValidate className="card grid-form">
        {summary}
        <AddressSearch onSelect={fillAddress} />
        <Field label={t("dwelling.street")} autoComplete="street-address" {...bind("street")} />
        <div className="row">
          <Field label={t("dwelling.postal_code")} autoComplete="postal-code" inputMode="numeric" {...bind("postal_code")} />
          <Field label={t("dwelling.municipality")} autoComplete="address-level2" {...bind("municipality")} />
        </div>
        <Field label={t("dwelling.insee_code")} hint={t("dwelling.insee_hint")} {...bind("insee_code")} />
        <div className="row">
          <Field label={t("dwelling.surface")} inputMode="decimal" optional {...bind("surface_m2")} />
          <Field label={t("dwelling.occupants")} inputMode="numeric" optional {...bind("occupants")} />
        </div>
        <div className="row">
          <Select label={t("dwelling.type")} optional {...bind("dwelling_type")}>
            <option value="">{t("dwelling.unknown")}</option>
            <option value="house">{t("dwelling.type.house")}</option>
            <option value="apartment">{t("dwelling.type.apartment")}</option>
          </Select>
          <Field label={t("dwelling.year")} inputMode="numeric" optional {...bind("construction_year")} />
        </div>
        <div className="row">
          <Select label={t("dwelling.heating_energy")} optional {...bind("heating_energy")}>
            {energyOptions}
          </Select>
          <Select label={t("dwelling.heating_mode")} optional {...bind("heating_mode")}>
            <option value="">{t("dwelling.unknown")}</option>
            <option value="individual">{t("dwelling.heating_mode.individual")}</option>
            <option value="collective">{t("dwelling.heating_mode.collective")}</option>
          </Select>
        </div>
        <Select label={t("dwelling.hot_water")} optional {...bind("hot_water_energy")}>
          {energyOptions}
        </Select>
        <FormError error={save.error} />
        {save.isSuccess && (
          <div className="alert alert--ok" role="status">
            {t("dwelling.saved")}
          </div>
        )}
        <div className="actions">
          <button className="button" type="submit" disabled={save.isPending}>
            {t(onboarding ? "onboarding.dwelling.next" : "dwelling.save")}
          </button>
          {onboarding && (
            <Link className="button button--ghost" to="/meters?onboarding=1">
              {t("onboarding.skip")}
            </Link>
          )}
        </div>
      </form>
    </div>
  );
}
