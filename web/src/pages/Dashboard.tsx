import { useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type ConsumptionSeries, type MeterView, type Step } from "../api/client";
import { AddressHold, addressHeld } from "../components/AddressHold";
import { BarChart } from "../components/BarChart";
import { NewsCard } from "../components/NewsCard";
import { addDays, addMonths, day, euros, isoDay, kwh, quantityUnit } from "../format";
import { errorMessage, useI18n, type Key, type Lang } from "../i18n";
import { Link, setSearch, useLocation } from "../router";
import { useMeters } from "../api/queries";
import { ScrollRegion } from "../components/ScrollRegion";

type Unit = "kwh" | "eur";
type View = Extract<Step, "day" | "month" | "year">;
const STOPPED = new Set(["revoked", "expired", "refused", "invalid", "timed_out"]);

/** The window shown: `to` is exclusive, as in the API. */
function period(meter: MeterView, view: View, offset: number): { from: string; to: string } {
  const end = meter.last_collected_day ? addDays(meter.last_collected_day, 1) : isoDay(new Date());
  if (view === "day") {
    const to = addDays(end, -30 * offset);
    return { from: addDays(to, -30), to };
  }
  const last = addDays(end, -1);
  if (view === "month") {
    const to = addMonths(`${last.slice(0, 7)}-01`, 1 - 12 * offset);
    return { from: addMonths(to, -12), to };
  }
  const to = `${Number(last.slice(0, 4)) + 1 - 3 * offset}-01-01`;
  return { from: addMonths(to, -36), to };
}

function label(iso: string, view: View, lang: Lang): string {
  if (view === "day") return day(iso, lang, { day: "numeric", month: "short" });
  if (view === "month") return day(iso, lang, { month: "short", year: "2-digit" });
  return iso.slice(0, 4);
}

function useSeries(meterId: string, range: { from: string; to: string }, step: View, enabled = true) {
  return useQuery({
    queryKey: ["consumption", meterId, range.from, range.to, step],
    enabled,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/meters/{meter_id}/consumption", {
          params: { path: { meter_id: meterId }, query: { from: range.from, to: range.to, step } },
        }),
      ),
  });
}

const value = (p: ConsumptionSeries["points"][number], unit: Unit) =>
  unit === "kwh" ? (p.wh == null ? null : p.wh / 1000) : p.eur == null ? null : Number(p.eur);

function total(series: ConsumptionSeries | undefined, unit: Unit): number | null {
  const values = (series?.points ?? []).map((p) => value(p, unit)).filter((v): v is number => v != null);
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

function Segmented<T extends string>(props: { legend: string; value: T; options: [T, string][]; onChange: (v: T) => void }) {
  return (
    <fieldset className="segmented">
      <legend>{props.legend}</legend>
      {props.options.map(([v, text]) => (
        <button key={v} type="button" aria-pressed={props.value === v} onClick={() => props.onChange(v)}>
          {text}
        </button>
      ))}
    </fieldset>
  );
}

function ComparisonCard({ meterId, range }: { meterId: string; range: { from: string; to: string } }) {
  const { t, lang } = useI18n();
  const comparison = useQuery({
    queryKey: ["comparison", meterId, range.from, range.to],
    retry: false,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/meters/{meter_id}/comparison", {
          params: { path: { meter_id: meterId }, query: { from: range.from, to: range.to } },
        }),
      ),
  });
  const c = comparison.data;
  const metric = c?.available ? c.kwh : null;
  let body;
  if (comparison.isPending) body = <p>{t("app.loading")}</p>;
  else if (comparison.error) body = <p>{errorMessage(t, comparison.error.code)}</p>;
  else if (c?.reason === "peer_statistics_pending") body = <p>{t("compare.pending")}</p>;
  else if (!c || !metric) body = <p>{t("compare.not_enough")}</p>;
  else {
    const pct = Math.round((100 * (metric.value - metric.median)) / metric.median);
    const rows: [string, number, string][] = [
      [t("compare.you"), metric.value, "you"],
      [t("compare.median"), metric.median, "median"],
      [t("compare.efficient"), metric.efficient, "efficient"],
    ];
    const max = Math.max(...rows.map((r) => r[1]), 1);
    body = (
      <>
        <p className="big-sentence">
          {pct >= 0 ? t("compare.more", { pct }) : t("compare.less", { pct: -pct })}
        </p>
        <ul className="hbars">
          {rows.map(([name, v, cls]) => (
            <li key={cls}>
              <span className="hbar-label">{name}</span>
              <span className="hbar-track" aria-hidden="true">
                <span className={`hbar hbar--${cls}`} style={{ width: `${(100 * v) / max}%` }} />
              </span>
              <span className="hbar-value">{kwh(v * 1000, lang)}</span>
            </li>
          ))}
        </ul>
        <p className="muted">{t("compare.group", { n: metric.group_size || c.group_size })}</p>
      </>
    );
  }
  return (
    <section className="card" aria-labelledby="compare-title">
      <h2 id="compare-title">{t("compare.title")}</h2>
      {body}
    </section>
  );
}

function Alerts() {
  const { t, lang } = useI18n();
  const alerts = useQuery({
    queryKey: ["notifications"],
    retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/me/notifications")),
  });
  return (
    <section className="card" aria-labelledby="alerts-title">
      <h2 id="alerts-title">{t("alerts.title")}</h2>
      {alerts.error && <p role="alert">{errorMessage(t, alerts.error.code)}</p>}
      {alerts.data?.length === 0 && <p>{t("alerts.none")}</p>}
      {alerts.data && alerts.data.length > 0 && (
        <ul className="alerts">
          {alerts.data.slice(0, 5).map((n) => (
            <li key={n.id} className={n.read_at ? "" : "unread"}>
              <strong>{n.title}</strong> <span className="muted">{day(n.created_at, lang)}</span>
              <p>{n.body}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const VIEWS: View[] = ["day", "month", "year"];

/** The dashboard's choices, read from the address (`?meter=&view=&unit=&offset=&last_year=1`). */
function useChoices() {
  const params = useLocation().searchParams;
  const view = params.get("view") as View;
  const offset = Number(params.get("offset"));
  return {
    meter: params.get("meter"),
    unit: (params.get("unit") === "eur" ? "eur" : "kwh") as Unit,
    view: VIEWS.includes(view) ? view : "day",
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
    lastYear: params.get("last_year") === "1",
  };
}

function MeterDashboard({ meter }: { meter: MeterView }) {
  const { t, lang } = useI18n();
  const { unit, view, offset, lastYear: showLastYear } = useChoices();
  const setUnit = (u: Unit) => setSearch({ unit: u === "kwh" ? null : u });
  const setView = (v: View) => setSearch({ view: v === "day" ? null : v, offset: null });
  const setOffset = (o: number) => setSearch({ offset: o ? String(o) : null });
  const setShowLastYear = (on: boolean) => setSearch({ last_year: on ? "1" : null });
  const range = period(meter, view, offset);
  const lastYearRange = { from: addMonths(range.from, -12), to: addMonths(range.to, -12) };
  const current = useSeries(meter.id, range, view);
  const lastYear = useSeries(meter.id, lastYearRange, view, view !== "year");

  const fmt = (v: number) => (unit === "kwh" ? kwh(v * 1000, lang, meter.energy) : euros(v, lang));
  const points = useMemo(() => current.data?.points ?? [], [current.data]);
  const labels = useMemo(() => points.map((p) => label(p.period, view, lang)), [points, view, lang]);
  const series = useMemo(() => {
    const s = [{ label: t("dashboard.series.current"), values: points.map((p) => value(p, unit)), colour: "#0b6e4f" }];
    if (showLastYear && view !== "year") {
      const byPeriod = new Map((lastYear.data?.points ?? []).map((p) => [addMonths(p.period, 12), p]));
      s.unshift({
        label: t("dashboard.series.last_year"),
        values: points.map((p) => {
          const old = byPeriod.get(p.period);
          return old ? value(old, unit) : null;
        }),
        // 3.8:1 on white (WCAG 1.4.11 asks 3:1 of a graphic); a blue, so it is not read as a paler "this year".
        colour: "#5f87a8",
      });
    }
    return s;
  }, [points, unit, showLastYear, lastYear.data, view, t]);

  const sum = total(current.data, unit);
  const before = view === "year" ? null : total(lastYear.data, unit);
  let versus = "";
  if (sum != null && before != null && before > 0) {
    const pct = Math.round((100 * (sum - before)) / before);
    versus =
      pct === 0
        ? t("dashboard.vs_last_year.same")
        : t(pct > 0 ? "dashboard.vs_last_year.more" : "dashboard.vs_last_year.less", {
            pct: Math.abs(pct),
            other: fmt(before),
          });
  }
  const status = meter.consent?.status;
  const summary = t("dashboard.chart_label", {
    unit: unit === "kwh" ? quantityUnit(meter.energy) : "€",
    step: t(`dashboard.step.${view}` as Key),
    from: day(range.from, lang),
    to: day(addDays(range.to, -1), lang),
  });
  return (
    <>
      {status && STOPPED.has(status) && (
        <div className="alert alert--info" role="status">
          {t("dashboard.consent_warning", { status: t(`consent.${status}` as Key) })}{" "}
          <Link to="/meters">{t("nav.meters")}</Link>
        </div>
      )}
      <section className="card" aria-labelledby="chart-title">
        <h2 id="chart-title" className="visually-hidden">
          {summary}
        </h2>
        <div className="controls">
          <Segmented legend={t("dashboard.unit")} value={unit} onChange={setUnit}
            options={[["kwh", quantityUnit(meter.energy)], ["eur", "€"]]} />
          <Segmented legend={t("dashboard.view")} value={view}
            onChange={setView}
            options={[["day", t("dashboard.view.day")], ["month", t("dashboard.view.month")], ["year", t("dashboard.view.year")]]} />
        </div>
        <div className="period">
          <button type="button" className="button button--ghost" onClick={() => setOffset(offset + 1)}
            aria-label={t("dashboard.previous")}>
            ‹
          </button>
          <p className="period-label">
            {day(range.from, lang)} – {day(addDays(range.to, -1), lang)}
          </p>
          <button type="button" className="button button--ghost" onClick={() => setOffset(offset - 1)}
            disabled={offset === 0} aria-label={t("dashboard.next")}>
            ›
          </button>
        </div>
        {sum != null && (
          <p className="big-sentence" aria-live="polite">
            {t("dashboard.total", { total: fmt(sum) })} {versus}
          </p>
        )}
        {current.error && <p role="alert">{errorMessage(t, current.error.code)}</p>}
        {current.data && points.length === 0 && <p>{t("dashboard.no_data")}</p>}
        <BarChart labels={labels} series={series} summary={summary} format={fmt} />
        {view !== "year" && (
          <div className="field field--check">
            <input id="last-year" type="checkbox" checked={showLastYear} onChange={(e) => setShowLastYear(e.target.checked)} />
            <label htmlFor="last-year">{t("dashboard.last_year")}</label>
          </div>
        )}
        {unit === "eur" && current.data?.eur_estimated && <p className="muted">{t("dashboard.eur_estimated")}</p>}
        <details>
          <summary>{t("dashboard.table")}</summary>
          <ScrollRegion label={summary}>
            <table className="values">
              <caption className="visually-hidden">{summary}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("dashboard.col.period")}</th>
                  <th scope="col">{quantityUnit(meter.energy)}</th>
                  <th scope="col">€</th>
                </tr>
              </thead>
              <tbody>
                {points.map((p) => (
                  <tr key={p.period} data-period={p.period}>
                    <th scope="row">{label(p.period, view, lang)}</th>
                    <td data-wh={p.wh ?? ""}>{kwh(p.wh, lang, meter.energy)}</td>
                    <td data-eur={p.eur ?? ""}>{euros(p.eur, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </details>
      </section>
      <div className="two-columns">
        <ComparisonCard meterId={meter.id} range={range} />
        <Alerts />
      </div>
    </>
  );
}

export default function Dashboard() {
  const { t } = useI18n();
  const meters = useMeters();
  const chosen = useChoices().meter;
  const setChosen = (id: string) => setSearch({ meter: id, offset: null });
  const list = meters.data ?? [];
  const meter = list.find((m) => m.id === chosen) ?? list.find((m) => !STOPPED.has(m.consent?.status ?? "")) ?? list[0];
  return (
    <div>
      <p className="back">
        <Link to="/">‹ {t("home.back")}</Link>
      </p>
      <h1>{t("detail.title")}</h1>
      <NewsCard />
      {meters.isPending && <p>{t("app.loading")}</p>}
      {meters.data && list.length === 0 && (
        <div className="card empty">
          <p>{t("dashboard.no_meter")}</p>
          <Link className="button" to="/meters">
            {t("meters.declare")}
          </Link>
        </div>
      )}
      {list.length > 1 && (
        <Segmented legend={t("dashboard.meter")} value={meter?.id ?? ""} onChange={setChosen}
          options={list.map((m) => [m.id, m.label || `${t(`energy.${m.energy}` as Key)} ${m.identifier.slice(-4)}`])} />
      )}
      {meter && (addressHeld(meter) ? <AddressHold meter={meter} /> : <MeterDashboard key={meter.id} meter={meter} />)}
    </div>
  );
}
