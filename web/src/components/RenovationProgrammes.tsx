import { useQuery } from "@tanstack/react-query";
import { ScrollRegion } from "./ScrollRegion";
import { api, unwrap } from "../api/client";
import { FormError } from "./Form";
import { useI18n } from "../i18n";

/** The analyst page's renovation programmes: weather-normalised kWh before and after the works, under secrecy. */
export default function RenovationProgrammes() {
  const { t, lang } = useI18n();
  const query = useQuery({
    queryKey: ["analyst", "renovations"],
    queryFn: () => unwrap(api.GET("/api/v1/analyst/renovations", {})),
  });
  const locale = lang === "fr" ? "fr-FR" : "en-GB";
  const n = (v: number | null | undefined) => (v === null || v === undefined ? "—" : Math.round(v).toLocaleString(locale));
  const programmes = query.data?.programmes ?? [];
  return (
    <section aria-labelledby="renovations-title">
      <h2 id="renovations-title">{t("renovations.title")}</h2>
      <p>{t("renovations.intro")}</p>
      <FormError error={query.error} />
      {query.data && programmes.length === 0 && <p>{t("renovations.none")}</p>}
      {programmes.length > 0 && (
        <ScrollRegion label={t("renovations.title")}>
          <table>
            <caption>{t("renovations.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("renovations.col.programme")}</th>
                <th scope="col">{t("renovations.col.declared")}</th>
                <th scope="col">{t("renovations.col.measured")}</th>
                <th scope="col">{t("renovations.col.before")}</th>
                <th scope="col">{t("renovations.col.after")}</th>
                <th scope="col">{t("renovations.col.change")}</th>
                <th scope="col">{t("renovations.col.completeness")}</th>
              </tr>
            </thead>
            <tbody>
              {programmes.map((p) => (
                <tr key={p.programme}>
                  <th scope="row">{p.programme}</th>
                  <td>{n(p.declared)}</td>
                  {p.secret ? (
                    <td colSpan={5}>{t(`renovations.secret.${p.secret}`)}</td>
                  ) : (
                    <>
                      <td>{n(p.measured)}</td>
                      <td>{n(p.before_kwh)}</td>
                      <td>{n(p.after_kwh)}</td>
                      <td>{p.change_pct === null ? "—" : `${p.change_pct > 0 ? "+" : ""}${p.change_pct.toLocaleString(locale)} %`}</td>
                      <td>{p.completeness === null ? "—" : `${Math.round(p.completeness * 100)} %`}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </section>
  );
}
