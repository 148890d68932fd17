import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import { I18nProvider } from "../i18n";
import { ComparisonCard, ThisMonthCard, type MeterSummary } from "./Home";

afterEach(cleanup);

function totals(over: Partial<MeterSummary["totals"]>): MeterSummary["totals"] {
  return {
    meter_id: "m", energy: "electricity", as_of: "2026-12-05", month_wh: 0, month_days: 5, month_days_missing: 0,
    month_partial: false, year_wh: 0, year_days: 0, year_days_missing: 0, year_partial: false, eur_estimated: false,
    ...over,
  } as MeterSummary["totals"];
}

function meter(id: string, energy: string, t: Partial<MeterSummary["totals"]>, comparison?: object): MeterSummary {
  return { meter_id: id, energy, totals: totals({ meter_id: id, energy, ...t }), comparison } as MeterSummary;
}

const renderFr = (ui: React.ReactNode) => {
  localStorage.setItem("metro.lang", "fr");
  return render(<I18nProvider>{ui}</I18nProvider>);
};
const text = (el: HTMLElement) => el.textContent!.replace(/\s/g, " ");

describe("Ce mois-ci", () => {
  const names = { e: "Électricité", g: "Gaz" };

  it("adds electricity and gas up: euros, kWh, forecast, last year and CO2e", () => {
    renderFr(
      <ThisMonthCard names={names} meters={[
        meter("e", "electricity", { month_wh: 100_000, month_eur: "20.00", forecast_wh: 600_000, forecast_eur: "120.00",
                                    month_co2e_g: 4610, last_year_month_wh: 150_000 }),
        meter("g", "gas", { month_wh: 200_000, month_eur: "22.50", forecast_wh: 1_200_000, forecast_eur: "135.00",
                            month_co2e_g: 43000, last_year_month_wh: 250_000 }),
      ]} />,
    );
    expect(text(screen.getByTestId("month-total"))).toContain("42,50 €");
    expect(text(screen.getByTestId("month-total"))).toContain("300 kWh");
    expect(text(screen.getByTestId("forecast"))).toContain("255,00 €");
    // 300 kWh against 400 kWh the same days last year.
    expect(text(screen.getByTestId("versus"))).toContain("25 % de moins que les mêmes jours l'an dernier (400 kWh)");
    expect(text(screen.getByTestId("versus"))).toContain("Sans correction de la météo");
    expect(text(screen.getByTestId("co2e"))).toContain("48 kg CO₂e");
    const links = screen.getAllByTestId("energy-link");
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["/consumption?meter=e", "/consumption?meter=g"]);
  });

  it("uses last year's weather-corrected figure where every meter has one", () => {
    renderFr(
      <ThisMonthCard names={names} meters={[
        meter("g", "gas", { month_wh: 220_000, last_year_month_wh: 180_000, last_year_weather_normalised: true,
                            last_year_month_wh_normalised: 200_000 }),
      ]} />,
    );
    expect(text(screen.getByTestId("versus"))).toContain("10 % de plus que les mêmes jours l'an dernier (200 kWh)");
    expect(text(screen.getByTestId("versus"))).toContain("Corrigé de la météo");
    expect(screen.queryByTestId("co2e")).toBeNull();
  });

  it("says when there is no data this month yet, and leaves out a withheld meter", () => {
    renderFr(<ThisMonthCard names={names} meters={[
      { ...meter("e", "electricity", { as_of: null }), withheld: "address_unconfirmed" } as MeterSummary,
    ]} />);
    expect(screen.getByText(/Pas encore de données ce mois-ci/)).toBeTruthy();
    expect(screen.queryByTestId("month-total")).toBeNull();
  });
});

describe("comparison with similar homes", () => {
  const base = { meter_id: "e", energy: "electricity", start: "2026-11-01", end: "2026-12-01", available: false };
  const states: [string, RegExp, boolean][] = [
    ["dwelling_not_described", /il nous faut la description de votre logement/, true],
    ["profile_incomplete", /ne dit pas comment il est chauffé/, true],
    ["too_few_peers", /Moins de 10 logements semblables ont des données pour novembre 2026/, false],
    ["no_consumption", /Aucune donnée pour novembre 2026/, false],
    ["too_many_missing_days", /Trop de jours manquent en novembre 2026/, false],
    ["peer_statistics_pending", /La comparaison de novembre 2026 .* est en cours de calcul/, false],
  ];
  for (const [reason, message, describe] of states) {
    it(`explains ${reason}${describe ? " and offers to describe the home" : ""}`, () => {
      renderFr(<ComparisonCard names={{ e: "Électricité" }}
        meters={[meter("e", "electricity", {}, { ...base, reason })]} />);
      const card = screen.getByTestId("comparison");
      expect(text(card)).toMatch(message);
      const action = within(card).queryByRole("link", { name: "Décrire mon logement (2 min)" });
      expect(Boolean(action)).toBe(describe);
      if (action) expect(action.getAttribute("href")).toBe("/dwelling");
    });
  }

  it("says a reason shared by every energy once, with one action", () => {
    renderFr(<ComparisonCard names={{ e: "Électricité", g: "Gaz" }} meters={[
      meter("e", "electricity", {}, { ...base, reason: "dwelling_not_described" }),
      meter("g", "gas", {}, { ...base, meter_id: "g", energy: "gas", reason: "dwelling_not_described" }),
    ]} />);
    const card = screen.getByTestId("comparison");
    expect(text(card).match(/il nous faut la description/g)).toHaveLength(1);
    expect(within(card).getAllByRole("link", { name: "Décrire mon logement (2 min)" })).toHaveLength(1);
  });

  it("names each energy when their reasons differ", () => {
    renderFr(<ComparisonCard names={{ e: "Électricité", g: "Gaz" }} meters={[
      meter("e", "electricity", {}, { ...base, reason: "too_few_peers" }),
      meter("g", "gas", {}, { ...base, meter_id: "g", energy: "gas", reason: "too_many_missing_days" }),
    ]} />);
    const card = text(screen.getByTestId("comparison"));
    expect(card).toContain("Électricité — Moins de 10 logements semblables");
    expect(card).toContain("Gaz — Trop de jours manquent");
    expect(screen.queryByRole("link", { name: "Décrire mon logement (2 min)" })).toBeNull();
  });

  it("gives the position among similar homes and the gap to the efficient 20 %", () => {
    const kwh = { value: 420, median: 380, efficient: 300, rank: 18, percentile: 70.8, group_size: 25 };
    renderFr(<ComparisonCard names={{ e: "Électricité" }}
      meters={[meter("e", "electricity", {}, { ...base, available: true, group_size: 25, kwh })]} />);
    const card = text(screen.getByTestId("comparison"));
    expect(card).toContain("vous êtes 18ᵉ sur 25 logements semblables");
    expect(card).toContain("Il vous manque 120 kWh pour rejoindre les 20 % les plus économes");
  });

  it("says so when the home is among the efficient 20 %", () => {
    const kwh = { value: 250, median: 380, efficient: 300, rank: 2, percentile: 4, group_size: 25 };
    renderFr(<ComparisonCard names={{ e: "Électricité" }}
      meters={[meter("e", "electricity", {}, { ...base, available: true, group_size: 25, kwh })]} />);
    expect(text(screen.getByTestId("comparison"))).toContain("Vous faites partie des 20 % les plus économes");
  });
});
