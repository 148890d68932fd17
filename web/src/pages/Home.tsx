import { useMemo } from "react";
import { useQueries, useQuery } from "@tanstack/react-query";
import { api, unwrap, type MeterView, type Schemas } from "../api/client";
import { BarChart, stripes, type Series } from "../components/BarChart";
import { addDays, day, euros, kwh } from "../format";
import { errorMessage, useI18n, type Key, type Lang } from "../i18n";
import { Link } from "../router";
import { useMeters } from "../api/queries";
import { NewsCard } from "../components/NewsCard";
import { ScrollRegion } from "../components/ScrollRegion";

export type MeterSummary = Schemas["MeterSummaryView"];
type Totals = MeterSummary["totals"];
type Comparison = NonNullable<MeterSummary["comparison"]>;

/** Colours of each energy's bars (≥ 3:1 on white); estimated days are the same colour, striped. */
const COLOURS: Record<string, string> = { electricity: "#0b6e4f", gas: "#8a4f00", heat: "#7a3b8f", water: "#1f5f99" };

export function meterName(t: ReturnType<typeof useI18n>["t"], m: { energy: string; label?: string | null }): string {
  return m.label || t(`energy.${m.energy}` as Key);
}

/** The figures of every meter with data this month, added up across energies. */
export function addUp(meters: MeterSummary[]) {
  const counted = meters.filter((m) => !m.withheld && m.totals.as_of);
  const asOf = counted.map((m) => m.totals.as_of!).sort().at(-1) ?? null;
  const sum = (pick: (t: Totals) => number | string | null | undefined) => {
    const values = counted.map((m) => pick(m.totals));
    return values.length && values.every((v) => v != null) ? values.reduce<number>((a, v) => a + Number(v), 0) : null;
  };
  return {
    counted,
    asOf,
    wh: sum((t) => t.month_wh),
    eur: sum((t) => t.month_eur),
    forecastWh: sum((t) => t.forecast_wh),
    forecastEur: sum((t) => t.forecast_eur),
    co2eG: sum((t) => t.month_co2e_g),
    lastYearWh: sum((t) => (t.last_year_weather_normalised ? t.last_year_month_wh_normalised : t.last_year_month_wh)),
    normalised: counted.length > 0 && counted.every((m) => m.totals.last_year_weather_normalised),
    estimated: counted.some((m) => m.totals.eur_estimated),
    partial: counted.some((m) => m.totals.month_partial),
  };
}

function co2e(grams: number, lang: Lang): string {
  const kg = grams / 1000;
  return `${kg.toLocaleString(lang === "fr" ? "fr-FR" : "en-GB", { maximumFractionDigits: kg < 10 ? 1 : 0 })} kg CO₂e`;
}

/** "Ce mois-ci": the month to date in € and kWh across all energies, the month-end forecast, last year, CO2e. */
export function ThisMonthCard({ meters, names }: { meters: MeterSummary[]; names: Record<string, string> }) {
  const { t, lang } = useI18n();
  const total = addUp(meters);
  let body;
  if (!total.asOf) body = <p>{t("home.month.no_data")}</p>;
  else {
    const monthName = day(total.asOf, lang, { month: "long", year: "numeric" });
    let versus = null;
    if (total.wh != null && total.lastYearWh != null && total.lastYearWh > 0) {
      const pct = Math.round((100 * (total.wh - total.lastYearWh)) / total.lastYearWh);
      const key: Key = pct === 0 ? "home.month.ly_same" : pct > 0 ? "home.month.ly_more" : "home.month.ly_less";
      versus = (
        <p className={`versus versus--${pct > 0 ? "up" : "down"}`} data-testid="versus">
          {t(key, { pct: Math.abs(pct), before: kwh(total.lastYearWh, lang) })}{" "}
          <span className="muted">{t(total.normalised ? "home.month.ly_normalised" : "home.month.ly_raw")}</span>
        </p>
      );
    }
    body = (
      <>
        <p className="muted">{t("home.month.period", { month: monthName, date: day(total.asOf, lang, { day: "numeric", month: "long" }) })}</p>
        <p className="headline" data-testid="month-total">
          {total.eur != null ? (
            <>
              <strong>{euros(total.eur, lang)}</strong> <span>· {kwh(total.wh, lang)}</span>
            </>
          ) : (
            <strong>{kwh(total.wh, lang)}</strong>
          )}
        </p>
        {(total.forecastEur ?? total.forecastWh) != null && (
          <p data-testid="forecast">
            {t("home.month.forecast", {
              value: total.forecastEur != null ? euros(total.forecastEur, lang) : kwh(total.forecastWh, lang),
            })}
          </p>
        )}
        {versus}
        {total.co2eG != null && <p data-testid="co2e">{t("home.month.co2e", { value: co2e(total.co2eG, lang) })}</p>}
        {total.estimated && <p className="muted">{t("home.month.eur_estimated")}</p>}
        {total.partial && <p className="muted">{t("home.month.partial")}</p>}
        {total.counted.length > 0 && (
          <ul className="energy-links">
            {total.counted.map((m) => (
              <li key={m.meter_id}>
                <Link to={`/consumption?meter=${m.meter_id}`} data-testid="energy-link">
                  <span className="energy-name">{names[m.meter_id] ?? t(`energy.${m.energy}` as Key)}</span>
                  <span>
                    {kwh(m.totals.month_wh, lang)}
                    {m.totals.month_eur != null && ` · ${euros(m.totals.month_eur, lang)}`}
                  </span>
                  <span className="visually-hidden">{t("home.month.detail")}</span>
                  <span aria-hidden="true">›</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </>
    );
  }
  return (
    <section className="card card--lead" aria-labelledby="month-title" data-testid="this-month">
      <h2 id="month-title">{t("home.month.title")}</h2>
      {body}
    </section>
  );
}

/** Why a comparison cannot be shown, in words; the dwelling's description is offered where it is the missing piece. */
const DESCRIBE = new Set(["dwelling_not_described", "profile_incomplete"]);

function reasonText(t: ReturnType<typeof useI18n>["t"], c: Comparison, period: string): string {
  const key = `home.compare.reason.${c.reason ?? "no_consumption"}` as Key;
  return t(key in REASONS ? key : "home.compare.reason.unknown", { period });
}

function ComparisonLine({ c, name }: { c: Comparison; name: string }) {
  const { t, lang } = useI18n();
  const period = day(c.start, lang, { month: "long", year: "numeric" });
  if (!c.available || !c.kwh) {
    return (
      <li data-reason={c.reason ?? "no_consumption"}>
        <strong>{name}</strong> — {reasonText(t, c, period)}
      </li>
    );
  }
  const m = c.kwh;
  const efficient = m.value <= m.efficient;
  return (
    <li data-reason="available">
      <strong>{name}</strong> — {t("home.compare.rank", { rank: m.rank, n: m.group_size, period })}{" "}
      {efficient
        ? t("home.compare.efficient_in")
        : t("home.compare.efficient_gap", { gap: kwh((m.value - m.efficient) * 1000, lang) })}
      <ul className="hbars" aria-hidden="true">
        {(
          [
            ["you", m.value],
            ["median", m.median],
            ["efficient", m.efficient],
          ] as const
        ).map(([cls, v]) => (
          <li key={cls}>
            <span className="hbar-label">{t(`compare.${cls}` as Key)}</span>
            <span className="hbar-track">
              <span className={`hbar hbar--${cls}`} style={{ width: `${(100 * v) / Math.max(m.value, m.median, m.efficient, 1e-9)}%` }} />
            </span>
            <span className="hbar-value">{kwh(v * 1000, lang)}</span>
          </li>
        ))}
      </ul>
    </li>
  );
}

const REASONS: Record<string, true> = Object.fromEntries(
  [
    "dwelling_not_described",
    "profile_incomplete",
    "too_few_peers",
    "no_consumption",
    "too_many_missing_days",
    "peer_statistics_pending",
  ].map(
    (r) => [`home.compare.reason.${r}`, true],
  ),
);

/** The home beside similar homes, per energy: its position and the gap to the efficient 20 %, or why not, said once
 * when every energy misses the same piece; the dwelling's description is offered where it is that piece. */
export function ComparisonCard({ meters, names }: { meters: MeterSummary[]; names: Record<string, string> }) {
  const { t, lang } = useI18n();
  const compared = meters.map((m) => m.comparison).filter((c): c is Comparison => Boolean(c));
  const reasons = new Set(compared.map((c) => (c.available && c.kwh ? "available" : (c.reason ?? "no_consumption"))));
  const [only] = reasons;
  let body;
  if (compared.length === 0) body = <p>{t("home.compare.none")}</p>;
  else if (reasons.size === 1 && only !== "available")
    body = (
      <p data-reason={only}>
        {reasonText(t, compared[0], day(compared[0].start, lang, { month: "long", year: "numeric" }))}
      </p>
    );
  else
    body = (
      <ul className="comparisons">
        {compared.map((c) => (
          <ComparisonLine key={c.meter_id} c={c} name={names[c.meter_id] ?? t(`energy.${c.energy}` as Key)} />
        ))}
      </ul>
    );
  return (
    <section className="card" aria-labelledby="home-compare-title" data-testid="comparison">
      <h2 id="home-compare-title">{t("compare.title")}</h2>
      {body}
      {[...reasons].some((r) => DESCRIBE.has(r)) && (
        <Link className="button button--small" to="/dwelling">
          {t("home.compare.describe")}
        </Link>
      )}
    </section>
  );
}

/** This month's days, every energy stacked; estimated days striped, missing days listed (and in the table). */
function MonthBars({ meters, names, asOf }: { meters: MeterSummary[]; names: Record<string, string>; asOf: string }) {
  const { t, lang } = useI18n();
  const from = `${asOf.slice(0, 7)}-01`;
  const to = addDays(asOf, 1);
  const series = useQueries({
    queries: meters.map((m) => ({
      queryKey: ["consumption", m.meter_id, from, to, "day"],
      queryFn: () =>
        unwrap(
          api.GET("/api/v1/meters/{meter_id}/consumption", {
            params: { path: { meter_id: m.meter_id }, query: { from, to, step: "day" } },
          }),
        ),
    })),
  });
  const loaded = series.map((s) => s.data).filter((d) => d != null);
  const days = useMemo(() => {
    const out: string[] = [];
    for (let d = from; d < to; d = addDays(d, 1)) out.push(d);
    return out;
  }, [from, to]);
  const bars: Series[] = loaded.map((s) => {
        const byDay = new Map(s.points.map((p) => [p.period, p]));
        const energy = meters.find((m) => m.meter_id === s.meter_id)?.energy ?? "electricity";
        const colour = COLOURS[energy] ?? "#0b6e4f";
        return {
          label: names[s.meter_id] ?? t(`energy.${energy}` as Key),
          colour,
          values: days.map((d) => (byDay.get(d)?.wh ?? null) === null ? null : byDay.get(d)!.wh! / 1000),
          fills: days.map((d) => (byDay.get(d)?.quality === "estimated" ? stripes(colour) : colour)),
        };
      });
  const quality = (q: string) =>
    days.filter((d) => loaded.some((s) => s.points.find((p) => p.period === d)?.quality === q));
  const missing = quality("missing");
  const estimated = quality("estimated");
  const labels = days.map((d) => day(d, lang, { day: "numeric" }));
  const list = (ds: string[]) => ds.map((d) => day(d, lang, { day: "numeric", month: "long" })).join(", ");
  const summary = t("home.bars.label", { from: day(from, lang), to: day(asOf, lang) });
  const error = series.find((s) => s.error)?.error;
  return (
    <section className="card" aria-labelledby="home-bars-title" data-testid="month-bars">
      <h2 id="home-bars-title">{t("home.bars.title")}</h2>
      {error && <p role="alert">{errorMessage(t, error.code)}</p>}
      <BarChart labels={labels} series={bars} summary={summary} stacked format={(v) => kwh(v * 1000, lang)} />
      <ul className="legend">
        {bars.map((b) => (
          <li key={b.label}>
            <span className="swatch" style={{ background: b.colour }} aria-hidden="true" /> {b.label}
          </li>
        ))}
        <li>
          <span className="swatch swatch--striped" aria-hidden="true" /> {t("home.bars.estimated_legend")}
        </li>
      </ul>
      {estimated.length > 0 && <p data-testid="estimated-days">{t("home.bars.estimated", { days: list(estimated) })}</p>}
      {missing.length > 0 && <p data-testid="missing-days">{t("home.bars.missing", { days: list(missing) })}</p>}
      <details>
        <summary>{t("dashboard.table")}</summary>
        <ScrollRegion label={summary}>
          <table className="values">
            <caption className="visually-hidden">{summary}</caption>
            <thead>
              <tr>
                <th scope="col">{t("dashboard.col.period")}</th>
                {loaded.map((s) => (
                  <th key={s.meter_id} scope="col">
                    {names[s.meter_id]} (kWh)
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d}>
                  <th scope="row">{day(d, lang, { day: "numeric", month: "short" })}</th>
                  {loaded.map((s) => {
                    const p = s.points.find((x) => x.period === d);
                    return (
                      <td key={s.meter_id} data-quality={p?.quality ?? "missing"}>
                        {p?.wh == null ? t("home.bars.missing_cell") : kwh(p.wh, lang)}
                        {p?.quality === "estimated" && ` (${t("home.bars.estimated_cell")})`}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      </details>
    </section>
  );
}

export default function Home() {
  const { t } = useI18n();
  const meters = useMeters();
  const summary = useQuery({ queryKey: ["summary"], queryFn: () => unwrap(api.GET("/api/v1/me/summary")) });
  const names = useMemo(
    () => Object.fromEntries((meters.data ?? []).map((m: MeterView) => [m.id, meterName(t, m)])),
    [meters.data, t],
  );
  const list = summary.data?.meters ?? [];
  const shown = list.filter((m) => !m.withheld && m.totals.as_of);
  const asOf = addUp(list).asOf;
  return (
    <div>
      <h1>{t("dashboard.title")}</h1>
      <NewsCard />
      {summary.isPending && <p>{t("app.loading")}</p>}
      {summary.error && (
        <div className="alert alert--error" role="alert">
          {errorMessage(t, summary.error.code)}
        </div>
      )}
      {summary.data && list.length === 0 && (
        <div className="card empty">
          <p>{t("dashboard.no_meter")}</p>
          <Link className="button" to="/meters">
            {t("meters.declare")}
          </Link>
        </div>
      )}
      {summary.data && list.length > 0 && (
        <>
          <ThisMonthCard meters={list} names={names} />
          <ComparisonCard meters={list} names={names} />
          {asOf && shown.length > 0 && <MonthBars meters={shown} names={names} asOf={asOf} />}
        </>
      )}
    </div>
  );
}
