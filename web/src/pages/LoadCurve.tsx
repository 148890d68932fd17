import { useEffect, useMemo } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, ApiError, unwrap, type MeterView, type Schemas } from "../api/client";
import { PowerChart } from "../components/PowerChart";
import { addDays, day, isoDay, kwh } from "../format";
import { errorMessage, useI18n, type Key, type Lang } from "../i18n";
import { navigate, useLocation } from "../router";
import { useMeters } from "../api/queries";
import * as curveMessages from "../messages/loadcurve";
import { addMessages } from "../messages";
import { ScrollRegion } from "../components/ScrollRegion";

addMessages(curveMessages);

type Span = "day" | "week";
type CurveDay = Schemas["LoadCurveDayView"];
const locale = (lang: Lang) => (lang === "fr" ? "fr-FR" : "en-GB");

const number = (v: number, lang: Lang) => v.toLocaleString(locale(lang), { maximumFractionDigits: v < 10 ? 2 : 1 });
const time = (iso: string, lang: Lang) =>
  new Date(iso).toLocaleTimeString(locale(lang), { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Paris" });

/** The view's choices live in the URL, so that reload and back keep them. */
function useChoices(meters: MeterView[]) {
  const url = useLocation();
  const q = url.searchParams;
  const meter = meters.find((m) => m.id === q.get("meter")) ?? meters[0];
  const span: Span = q.get("span") === "week" ? "week" : "day";
  const fallback = meter?.last_collected_day ?? addDays(isoDay(new Date()), -1);
  const shown = /^\d{4}-\d{2}-\d{2}$/.test(q.get("day") ?? "") ? q.get("day")! : fallback;
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams({ meter: meter?.id ?? "", span, day: shown, ...changes });
    navigate(`/load-curve?${next}`, true);
  };
  return { meter, span, shown, set };
}

function useHistoryRequest(meterId: string | undefined) {
  // Opening the view is asking for the history: the connector fetches it on the quota daily readings leave.
  // The curve is read once the request is answered, so that it tells where the history stands.
  const ask = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/api/v1/meters/{meter_id}/load-curve/history", { params: { path: { meter_id: id } } })),
  });
  const { mutate } = ask;
  useEffect(() => {
    if (meterId) mutate(meterId);
  }, [meterId, mutate]);
  return !meterId || ask.isSuccess || ask.isError;
}

function DaysTable({ days, lang }: { days: CurveDay[]; lang: Lang }) {
  const { t } = useI18n();
  return (
    <ScrollRegion label={t("curve.days.caption")}>
      <table className="values">
        <caption className="visually-hidden">{t("curve.days.caption")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("curve.col.day")}</th>
            <th scope="col">{t("curve.col.energy")}</th>
            <th scope="col">{t("curve.col.max")}</th>
            <th scope="col">{t("curve.col.at")}</th>
          </tr>
        </thead>
        <tbody>
          {days.map((d) => (
            <tr key={d.day}>
              <th scope="row">{day(d.day, lang, { weekday: "short", day: "numeric", month: "short" })}</th>
              <td>{kwh(d.wh, lang)}</td>
              <td>{d.max_power ? t("curve.kva", { v: number(d.max_power.va / 1000, lang) }) : "—"}</td>
              <td>{d.max_power?.at ? time(d.max_power.at, lang) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

function PointsTable({ days, lang, span }: { days: CurveDay[]; lang: Lang; span: Span }) {
  const { t } = useI18n();
  return (
    <details className="curve-table">
      <summary>{t("curve.table.show")}</summary>
      <ScrollRegion label={t("curve.table.caption")}>
        <table className="values">
          <caption>{t("curve.table.caption")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("curve.col.time")}</th>
              <th scope="col">{t("curve.col.power")}</th>
            </tr>
          </thead>
          <tbody>
            {days.flatMap((d) =>
              d.points.map((p) => (
                <tr key={p.start}>
                  <th scope="row">
                    {span === "week" ? `${day(d.day, lang, { weekday: "short", day: "numeric" })} ` : ""}
                    {time(p.start, lang)}
                  </th>
                  <td>{p.w == null ? "—" : t("curve.kw", { v: number(p.w / 1000, lang) })}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </ScrollRegion>
    </details>
  );
}

export default function LoadCurve() {
  const { t, lang } = useI18n();
  const meters = useMeters();
  const electric = useMemo(() => (meters.data ?? []).filter((m) => m.energy === "electricity"), [meters.data]);
  const { meter, span, shown, set } = useChoices(electric);
  const asked = useHistoryRequest(meter?.channel === "dataconnect" ? meter.id : undefined);
  const range = span === "day" ? { from: shown, to: addDays(shown, 1) } : { from: addDays(shown, -6), to: addDays(shown, 1) };
  const curve = useQuery({
    queryKey: ["load-curve", meter?.id, range.from, range.to],
    enabled: Boolean(meter) && asked,
    refetchInterval: (q) => (q.state.data?.collection.state === "collecting" ? 5000 : false),
    queryFn: () =>
      unwrap(api.GET("/api/v1/meters/{meter_id}/load-curve", {
        params: { path: { meter_id: meter!.id }, query: { from: range.from, to: range.to } },
      })),
  });
  const days = curve.data?.days ?? [];
  const points = days.flatMap((d) => d.points);
  const series = points.map((p) => ({ start: p.start, minutes: p.minutes, kw: p.w == null ? null : p.w / 1000 }));
  // Ticks: every 3 hours over a day, each midnight over a week (Paris time).
  const tick = (iso: string) => {
    const hm = time(iso, lang);
    if (span === "week") return hm === "00:00" ? day(iso, lang, { weekday: "short", day: "numeric" }) : null;
    return hm.endsWith(":00") && Number(hm.slice(0, 2)) % 3 === 0 ? hm.slice(0, 2) + (lang === "fr" ? " h" : ":00") : null;
  };
  const peak = points.reduce<(typeof points)[number] | null>((best, p) => (p.w != null && (!best || p.w > (best.w ?? 0)) ? p : best), null);
  const kw = (v: number) => t("curve.kw", { v: number(v, lang) });
  const summary = peak
    ? span === "day"
      ? t("curve.summary.day", { day: day(shown, lang), max: kw(peak.w! / 1000), at: time(peak.start, lang) })
      : t("curve.summary", { from: day(range.from, lang), to: day(shown, lang), max: kw(peak.w! / 1000), at: time(peak.start, lang) })
    : t("curve.empty");
  const state = curve.data?.collection.state;
  const dst = days.find((d) => d.step_minutes === 30 && d.points.length !== 48);

  if (meters.isPending) return <p>{t("app.loading")}</p>;
  if (!meter) {
    return (
      <div>
        <h1>{t("curve.title")}</h1>
        <p>{t("curve.no_meter")}</p>
      </div>
    );
  }
  return (
    <div className="load-curve">
      <h1>{t("curve.title")}</h1>
      <p className="muted">{t("curve.intro")}</p>
      <div className="curve-controls">
        {electric.length > 1 && (
          <label>
            {t("curve.meter")}
            <select value={meter.id} onChange={(e) => set({ meter: e.target.value })}>
              {electric.map((m) => (
                <option key={m.id} value={m.id}>{m.label || m.identifier}</option>
              ))}
            </select>
          </label>
        )}
        <fieldset className="segmented">
          <legend>{t("curve.span")}</legend>
          {(["day", "week"] as Span[]).map((s) => (
            <button key={s} type="button" aria-pressed={span === s} onClick={() => set({ span: s })}>
              {t(`curve.span.${s}` as Key)}
            </button>
          ))}
        </fieldset>
        <div className="curve-nav">
          <button type="button" className="button button--ghost" aria-label={t("curve.previous")}
            onClick={() => set({ day: addDays(shown, span === "day" ? -1 : -7) })}>
            ‹
          </button>
          <label>
            <span className="visually-hidden">{t("curve.date")}</span>
            <input type="date" value={shown} max={isoDay(new Date())}
              onChange={(e) => e.target.value && set({ day: e.target.value })} />
          </label>
          <button type="button" className="button button--ghost" aria-label={t("curve.next")}
            onClick={() => set({ day: addDays(shown, span === "day" ? 1 : 7) })}>
            ›
          </button>
        </div>
      </div>
      {state && state !== "collected" && (
        <div className="alert alert--info" role="status">
          {t(`curve.state.${state}` as Key)}
        </div>
      )}
      <section className="card" aria-labelledby="curve-chart-title">
        <h2 id="curve-chart-title">{span === "day" ? day(shown, lang) : `${day(range.from, lang)} – ${day(shown, lang)}`}</h2>
        {curve.error ? (
          <div className="alert alert--error" role="alert">{errorMessage(t, (curve.error as ApiError).code)}</div>
        ) : curve.isPending ? (
          <p>{t("app.loading")}</p>
        ) : (
          <>
            {points.length ? (
              <PowerChart points={series} summary={summary} tick={tick} format={(v) => number(v, lang)} />
            ) : (
              <p>{t("curve.empty")}</p>
            )}
            <p className="muted">{summary}</p>
            {dst && <p className="muted">{t("curve.dst", { n: dst.points.length })}</p>}
            {points.length > 0 && <PointsTable days={days} lang={lang} span={span} />}
          </>
        )}
      </section>
      {days.length > 0 && (
        <section className="card" aria-labelledby="curve-days-title">
          <h2 id="curve-days-title">{t("curve.days.title")}</h2>
          <DaysTable days={days} lang={lang} />
        </section>
      )}
    </div>
  );
}
