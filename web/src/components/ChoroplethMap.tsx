/** The municipalities coloured by their median kWh/m² (5 classes), withheld ones hatched; drawn as SVG from the
 * GeoJSON the API gives (no tile server). The table beside it is the accessible alternative. */
type Feature = {
  geometry: { type: "Polygon" | "MultiPolygon"; coordinates: number[][][] | number[][][][] };
  properties: { code: string; name: string; secret: string | null; kwh_m2_median: number | null };
};
const COLOURS = ["#e4eef6", "#a9c8e0", "#6b9fc7", "#2f6fa3", "#0b3b66"];
const SECRET = "#bdbdbd";

function rings(f: Feature): number[][][] {
  return f.geometry.type === "Polygon" ? (f.geometry.coordinates as number[][][]) : (f.geometry.coordinates as number[][][][]).flat();
}

export default function ChoroplethMap({ features, title, legend, secretLabel }:
  { features: Feature[]; title: string; legend: string; secretLabel: string }) {
  const points = features.flatMap((f) => rings(f).flat());
  const [minX, maxX] = [Math.min(...points.map((p) => p[0])), Math.max(...points.map((p) => p[0]))];
  const [minY, maxY] = [Math.min(...points.map((p) => p[1])), Math.max(...points.map((p) => p[1]))];
  const kx = Math.cos(((minY + maxY) / 2) * (Math.PI / 180));
  const width = 600;
  const scale = width / ((maxX - minX) * kx || 1);
  const height = Math.round((maxY - minY) * scale);
  const values = features.map((f) => f.properties.kwh_m2_median).filter((v): v is number => v !== null).sort((a, b) => a - b);
  const bounds = [0.2, 0.4, 0.6, 0.8].map((q) => values[Math.min(values.length - 1, Math.floor(q * values.length))]);
  const colour = (v: number | null) => (v === null ? SECRET : COLOURS[bounds.filter((b) => v > b).length]);
  const path = (f: Feature) =>
    rings(f).map((ring) => "M" + ring.map(([x, y]) => `${((x - minX) * kx * scale).toFixed(1)},${((maxY - y) * scale).toFixed(1)}`).join("L") + "Z").join("");
  return (
    <figure className="map">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} width="100%">
        {features.map((f) => (
          <path key={f.properties.code} d={path(f)} fill={colour(f.properties.kwh_m2_median)} stroke="#ffffff" strokeWidth={0.8}>
            <title>{`${f.properties.name} : ${f.properties.kwh_m2_median ?? secretLabel}`}</title>
          </path>
        ))}
      </svg>
      <figcaption>
        <span>{legend} :</span>
        <ul className="legend">
          {values.length > 0 && COLOURS.map((c, i) => (
            <li key={c}><span className="swatch" style={{ background: c }} aria-hidden="true" />
              {i === 0 ? `≤ ${bounds[0]}` : i === COLOURS.length - 1 ? `> ${bounds[3]}` : `${bounds[i - 1]} – ${bounds[i]}`}</li>
          ))}
          <li><span className="swatch" style={{ background: SECRET }} aria-hidden="true" />{secretLabel}</li>
        </ul>
      </figcaption>
    </figure>
  );
}
