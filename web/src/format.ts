import type { Lang } from "./i18n";

const locale = (lang: Lang) => (lang === "fr" ? "fr-FR" : "en-GB");

/** The unit a meter's quantities are shown in: kWh of energy, m³ of water (whose readings are litres). */
export function quantityUnit(energy?: string): string {
  return energy === "water" ? "m³" : "kWh";
}

export function kwh(wh: number | null | undefined, lang: Lang, energy?: string): string {
  if (wh == null) return "—";
  const value = wh / 1000;
  const digits = energy === "water" ? (value < 10 ? 3 : 1) : value < 10 ? 1 : 0;
  return `${value.toLocaleString(locale(lang), { maximumFractionDigits: digits })} ${quantityUnit(energy)}`;
}

export function euros(eur: string | number | null | undefined, lang: Lang): string {
  if (eur == null || eur === "") return "—";
  return Number(eur).toLocaleString(locale(lang), { style: "currency", currency: "EUR" });
}

export function day(iso: string | null | undefined, lang: Lang, opts?: Intl.DateTimeFormatOptions): string {
  if (!iso) return "—";
  const d = new Date(iso.length === 10 ? `${iso}T12:00:00` : iso);
  return d.toLocaleDateString(locale(lang), opts ?? { day: "numeric", month: "long", year: "numeric" });
}

/** A moment with its time; `toLocaleDateString` refuses time options, `toLocaleString` takes both. */
export function dateTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(locale(lang), { dateStyle: "medium", timeStyle: "short" });
}

export function isoDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function addDays(iso: string, n: number): string {
  const d = new Date(`${iso}T12:00:00`);
  d.setDate(d.getDate() + n);
  return isoDay(d);
}

export function addMonths(iso: string, n: number): string {
  const d = new Date(`${iso}T12:00:00`);
  d.setMonth(d.getMonth() + n);
  return isoDay(d);
}
