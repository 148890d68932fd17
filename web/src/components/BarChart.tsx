import { useEffect, useRef } from "react";
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";

// Only the pieces a bar chart needs, so that the bundle stays small on a phone.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export type Series = { label: string; values: (number | null)[]; colour: string };

export function BarChart(props: { labels: string[]; series: Series[]; summary: string; format: (v: number) => string }) {
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
      backgroundColor: s.colour,
      borderRadius: 4,
      maxBarThickness: 48,
    }));
    c.options.plugins!.legend!.display = props.series.length > 1;
    c.update();
  }, [props.labels, props.series]);

  return (
    <div className="chart" data-colours={props.series.map((s) => s.colour).join(" ")}>
      <canvas ref={canvas} role="img" aria-label={props.summary} />
    </div>
  );
}
