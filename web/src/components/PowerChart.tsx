/**
 * A power curve drawn as SVG: a stepped area over the intervals (each point holds its average power until the
 * next), gaps where the DSO sent nothing, a few labelled ticks. No chart library: the view stays a small chunk.
 */
export type PowerPoint = { start: string; minutes: number; kw: number | null };

const W = 480;
const H = 260;
const PAD = { left: 40, right: 6, top: 10, bottom: 24 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * p).find((m) => m >= v)!;
}

export function PowerChart(props: { points: PowerPoint[]; summary: string; tick: (iso: string) => string | null;
                                    format: (kw: number) => string }) {
  const { points } = props;
  if (!points.length) return null;
  const t0 = Date.parse(points[0].start);
  const last = points[points.length - 1];
  const t1 = Date.parse(last.start) + last.minutes * 60_000;
  const max = niceMax(Math.max(...points.map((p) => p.kw ?? 0)));
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (kw: number) => H - PAD.bottom - (kw / max) * (H - PAD.top - PAD.bottom);
  const runs: string[] = [];
  let run = "";
  for (const p of points) {
    const a = Date.parse(p.start);
    if (p.kw == null) {
      if (run) runs.push(run);
      run = "";
      continue;
    }
    const b = a + p.minutes * 60_000;
    run += `${run ? "L" : `M${x(a).toFixed(1)},${y(0)}L`}${x(a).toFixed(1)},${y(p.kw).toFixed(1)}L${x(b).toFixed(1)},${y(p.kw).toFixed(1)}`;
    if (p === last) runs.push(run);
  }
  if (run && !runs.includes(run)) runs.push(run);
  const areas = runs.map((r) => `${r}L${r.slice(r.lastIndexOf("L") + 1).split(",")[0]},${y(0)}Z`);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const ticks = points.map((p) => [Date.parse(p.start), props.tick(p.start)] as const).filter(([, l]) => l);
  return (
    <div className="chart chart--power" data-points={points.length}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.summary}>
        {grid.map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} className="chart-grid" />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end" className="chart-label">{props.format(v)}</text>
          </g>
        ))}
        {ticks.map(([t, label]) => (
          <text key={t} x={x(t)} y={H - 8} textAnchor="middle" className="chart-label">{label}</text>
        ))}
        {areas.map((d, i) => <path key={`a${i}`} d={d} className="chart-area" />)}
        {runs.map((d, i) => <path key={`l${i}`} d={d.replace(/^M[^L]+L/, "M")} className="chart-line" />)}
      </svg>
    </div>
  );
}
