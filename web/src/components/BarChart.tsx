import { useEffect, useRef } from "react";
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";

// Only the pieces a bar chart needs, so that the bundle stays small on a phone.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

/** `fills`, one per bar where they differ from `colour` (a striped pattern for an estimated day, for example). */
export type Series = { label: string; values: (number | null)[]; colour: string; fills?: (string | CanvasPattern)[] };

/** Stripes of `colour` on white: an estimated value, told apart from a measured one by more than its colour. */
export function stripes(colour: string): CanvasPattern | string {
  const tile = document.createElement("canvas");
  tile.width = tile.height = 8;
  const g = tile.getContext("2d");
  if (!g) return colour;
  g.fillStyle = "#fff";
  g.fillRect(0, 0, 8, 8);
  g.strokeStyle = colour;
  g.lineWidth = 3;
  g.beginPath();
  g.moveTo(-2, 10);
  g.lineTo(10, -2);
  g.moveTo(6, 10);
  g.lineTo(10, 6);
  g.moveTo(-2, 2);
  g.lineTo(2, -2);
  g.stroke();
  return g.createPattern(tile, "repeat") ?? colour;
}

export function BarChart(props: {
  labels: string[];
  series: Series[];
  summary: string;
  format: (v: number) => string;
  stacked?: boolean;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<"bar"> | null>(null);
  const format = useRef(props.format);
  format.current = props.format;

  useEffect(() => {
    chart.current = new Chart(canvas.current!, {
      type: "bar",
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 250 },
        plugins: {
          legend: { display: false, labels: { color: "#1d2b26" } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label} : ${format.current(item.parsed.y ?? 0)}` } },
        },
        scales: {
          x: { grid: { display: false }, ticks: { color: "#33443d", maxRotation: 0, autoSkipPadding: 8 } },
          y: {
            beginAtZero: true,
            grid: { color: "#e3e9e6" },
            ticks: { color: "#33443d", callback: (v) => format.current(Number(v)) },
          },
        },
      },
    });
    return () => chart.current?.destroy();
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data.labels = props.labels;
    c.data.datasets = props.series.map((s) => ({
      label: s.label,
      data: s.values,
      backgroundColor: s.fills ?? s.colour,
      borderColor: s.colour,
      borderWidth: s.fills ? 1 : 0,
      borderRadius: 4,
      maxBarThickness: 48,
    }));
    c.options.plugins!.legend!.display = props.series.length > 1 && !props.stacked;
    c.options.scales!.x!.stacked = c.options.scales!.y!.stacked = Boolean(props.stacked);
    c.update();
  }, [props.labels, props.series, props.stacked]);

  return (
    <div className="chart" data-colours={props.series.map((s) => s.colour).join(" ")}>
      {/* eslint-disable-next-line jsx-a11y/no-interactive-element-to-noninteractive-role -- a drawing, named */}
      <canvas ref={canvas} role="img" aria-label={props.summary} />
    </div>
  );
}
