import { type MeterView } from "../api/client";
import { known, useI18n } from "../i18n";

const DSO_NAMES: Record<string, string> = {
  enedis: "Enedis", grdf: "GRDF", greenalp: "GreenAlp", cciag: "CCIAG", eau_de_grenoble: "Eau de Grenoble",
};

/** One plain sentence on how fresh the meter's data is: the DSO not having published yet is told apart from a
 * collection that fails. Said in words, never by colour alone. */
export function Freshness({ meter, dso }: { meter: MeterView; dso: string }) {
  const { t } = useI18n();
  const state = meter.freshness;
  if (!state) return null;
  const key = `freshness.${state}`;
  const reasonKey = `freshness.reason.${meter.freshness_reason ?? "unknown"}`;
  const reason = t(known(reasonKey) ? reasonKey : "freshness.reason.unknown", { dso });
  return (
    <p className={`freshness freshness--${state}`} data-freshness={state}>
      {known(key) ? t(key, { dso, reason }) : state}
    </p>
  );
}

/** The distributor's name as people know it. */
export function dsoName(dso: string): string {
  return DSO_NAMES[dso] ?? dso.toUpperCase();
}
