import { useEffect, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { day } from "../format";
import { useI18n, type Key } from "../i18n";
import { Field, FormError, Select, fieldError, useErrorSummary } from "./Form";
import { ScrollRegion } from "./ScrollRegion";

type Building = Schemas["Building"];
type Dwelling = Schemas["OrgDwelling"];
type Role = Schemas["StatementMeter"];
type Translate = ReturnType<typeof useI18n>["t"];
export type Housing = { dwellings: Dwelling[]; roles: Role[] } | null;

const dwellingsKey = (orgId: string, id: string) => ["org", orgId, "building", id, "dwellings"];
const rolesKey = (orgId: string, id: string) => ["org", orgId, "building", id, "statement-meters"];

/** A housing building's dwellings and the role of its meters in the statements (null for another use, or until
 * both are read). */
export function useBuildingHousing(orgId: string, building: Building): Housing {
  const housing = building.use_type === "housing";
  const path = { params: { path: { org_id: orgId, building_id: building.id } } };
  const dwellings = useQuery({
    queryKey: dwellingsKey(orgId, building.id), enabled: housing,
    queryFn: () => unwrap(api.GET("/api/v1/orgs/{org_id}/buildings/{building_id}/dwellings", path)),
  });
  const roles = useQuery({
    queryKey: rolesKey(orgId, building.id), enabled: housing,
    queryFn: () => unwrap(api.GET("/api/v1/orgs/{org_id}/buildings/{building_id}/statement-meters", path)),
  });
  if (!housing || !dwellings.data || !roles.data) return null;
  return { dwellings: dwellings.data, roles: roles.data };
}

/** What a meter measures for the statements, in words. */
export function roleText(t: Translate, role: Role, dwellings: Dwelling[]): string {
  if (role.role !== "dwelling") return t(`building.role.${role.role}` as Key);
  return t("building.role.dwelling", { label: dwellings.find((d) => d.id === role.dwelling_id)?.label ?? "?" });
}

/** A manager says what a meter measures: the collective heating or hot water, one dwelling's own meter, or none. */
export function MeterRoleForm({ orgId, buildingId, meter, role, dwellings }: {
  orgId: string; buildingId: string; meter: string; role: Role; dwellings: Dwelling[];
}) {
  const { t } = useI18n();
  const client = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [value, setValue] = useState(role.role === "dwelling" ? `dwelling:${role.dwelling_id}` : role.role);
  const save = useMutation({
    mutationFn: () => {
      const [kind, dwelling] = value.split(":");
      return unwrap(api.PUT("/api/v1/orgs/{org_id}/buildings/{building_id}/meters/{meter_id}/statement-role", {
        params: { path: { org_id: orgId, building_id: buildingId, meter_id: role.meter_id } },
        body: { role: kind as Role["role"], dwelling_id: dwelling ?? null },
      }));
    },
    onSuccess: () => client.invalidateQueries({ queryKey: rolesKey(orgId, buildingId) }),
  });
  const errorSummary = useErrorSummary(form, save.error);
  return (
    <form ref={form} noValidate className="inline-form" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      {errorSummary}
      <FormError error={save.error} />
      <Select label={t("building.role.label", { meter })} value={value}
        onChange={(e) => { setValue(e.target.value); save.reset(); }}>
        {(["collective_heating", "collective_hot_water"] as const).map((r) => (
          <option key={r} value={r}>{t(`building.role.${r}`)}</option>
        ))}
        {dwellings.map((d) => (
          <option key={d.id} value={`dwelling:${d.id}`}>{t("building.role.dwelling_pick", { label: d.label })}</option>
        ))}
        <option value="none">{t("building.role.none")}</option>
      </Select>
      <button type="submit" disabled={save.isPending}>{t("building.role.save", { meter })}</button>
      {save.isSuccess && <p className="alert alert--ok" role="status">{t("building.role.saved", { meter })}</p>}
    </form>
  );
}

/** The dwellings of a housing building with their share keys; a manager adds and edits them and hands each tenant
 * a single-use code. */
export function BuildingDwellings({ orgId, building, manager, housing }: {
  orgId: string; building: Building; manager: boolean; housing: NonNullable<Housing>;
}) {
  const { t, lang } = useI18n();
  const [editing, setEditing] = useState<Dwelling | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [code, setCode] = useState<{ label: string; code: string; expires: string } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const codeHeading = useRef<HTMLHeadingElement>(null);
  useEffect(() => { if (code) codeHeading.current?.focus(); }, [code]);
  const invite = useMutation({
    mutationFn: (d: Dwelling) => unwrap(api.POST(
      "/api/v1/orgs/{org_id}/buildings/{building_id}/dwellings/{dwelling_id}/invitation",
      { params: { path: { org_id: orgId, building_id: building.id, dwelling_id: d.id } } })),
    onSuccess: (r, d) => setCode({ label: d.label, code: r.code, expires: r.expires_at }),
  });
  const n = (v: number | null | undefined) => (v == null ? "—" : v.toLocaleString(lang === "fr" ? "fr-FR" : "en-GB"));
  return (
    <section aria-labelledby="building-dwellings">
      <h2 id="building-dwellings" ref={heading} tabIndex={-1}>{t("building.dwellings")}</h2>
      <p>{t("building.dwellings.intro")}</p>
      {housing.dwellings.length === 0 && <p>{t("building.no_dwellings")}</p>}
      {housing.dwellings.length > 0 && (
        <ScrollRegion label={t("building.dwellings")}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t("building.dwelling.label")}</th>
                <th scope="col">{t("building.dwelling.area")}</th>
                <th scope="col">{t("building.dwelling.heating")}</th>
                <th scope="col">{t("building.dwelling.hot_water")}</th>
                <th scope="col">{t("building.dwelling.tenant")}</th>
                {manager && <th scope="col">{t("building.dwelling.actions")}</th>}
              </tr>
            </thead>
            <tbody>
              {housing.dwellings.map((d) => (
                <tr key={d.id}>
                  <th scope="row">{d.label}</th>
                  <td>{n(d.floor_area_m2)}</td>
                  <td>{n(d.heating_tantiemes)}</td>
                  <td>{n(d.hot_water_tantiemes)}</td>
                  <td>{t(d.tenant_linked ? "building.dwelling.tenant_linked" : "building.dwelling.tenant_none")}</td>
                  {manager && (
                    <td className="actions">
                      <button type="button" className="link-button" onClick={() => { setSaved(null); setEditing(d); }}>
                        {t("building.dwelling.edit", { label: d.label })}
                      </button>{" "}
                      <button type="button" className="link-button" disabled={invite.isPending}
                        onClick={() => invite.mutate(d)}>
                        {t("building.code.generate", { label: d.label })}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <FormError error={invite.error} />
      {code && (
        <div className="card card--lead" aria-labelledby="tenant-code-title">
          <h3 id="tenant-code-title" ref={codeHeading} tabIndex={-1}>{t("building.code.title", { label: code.label })}</h3>
          <p className="tenant-code" data-testid="tenant-code"><strong>{code.code}</strong></p>
          <p>{t("building.code.intro", { date: day(code.expires, lang) })}</p>
          <button type="button" onClick={() => { setCode(null); heading.current?.focus(); }}>{t("building.code.done")}</button>
        </div>
      )}
      {saved && <p className="alert alert--ok" role="status">{t("building.dwelling.saved", { label: saved })}</p>}
      {manager && (
        <DwellingForm key={editing?.id ?? "new"} orgId={orgId} buildingId={building.id} dwelling={editing}
          onDone={(label) => { setEditing(null); setSaved(label); }} onCancel={() => { setEditing(null); heading.current?.focus(); }} />
      )}
    </section>
  );
}

const text = (v: number | null | undefined) => (v == null ? "" : String(v).replace(".", ","));
/** A whole number, null when empty; anything else is sent as typed, for the API to say what is wrong with it. */
const whole = (s: string) => (s.trim() === "" ? null : /^\d+$/.test(s.trim()) ? Number(s) : (s as unknown as number));

function DwellingForm({ orgId, buildingId, dwelling, onDone, onCancel }: {
  orgId: string; buildingId: string; dwelling: Dwelling | null; onDone: (label: string) => void; onCancel: () => void;
}) {
  const { t } = useI18n();
  const client = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [values, setValues] = useState({
    label: dwelling?.label ?? "", area: text(dwelling?.floor_area_m2), heating: text(dwelling?.heating_tantiemes),
    hot_water: text(dwelling?.hot_water_tantiemes),
  });
  useEffect(() => { if (dwelling) document.getElementById("dwelling-label")?.focus(); }, [dwelling]);
  const set = (k: keyof typeof values) => (e: { target: { value: string } }) => setValues({ ...values, [k]: e.target.value });
  const save = useMutation({
    mutationFn: () => {
      const area = Number(values.area.replace(",", "."));
      const body = { label: values.label.trim(), floor_area_m2: values.area.trim() && Number.isFinite(area) ? area : 0,
                     heating_tantiemes: whole(values.heating), hot_water_tantiemes: whole(values.hot_water) };
      const path = { org_id: orgId, building_id: buildingId };
      return unwrap(dwelling
        ? api.PUT("/api/v1/orgs/{org_id}/buildings/{building_id}/dwellings/{dwelling_id}",
                  { params: { path: { ...path, dwelling_id: dwelling.id } }, body })
        : api.POST("/api/v1/orgs/{org_id}/buildings/{building_id}/dwellings", { params: { path }, body }));
    },
    onSuccess: (d) => {
      void client.invalidateQueries({ queryKey: dwellingsKey(orgId, buildingId) });
      setValues({ label: "", area: "", heating: "", hot_water: "" });
      onDone(d.label);
    },
  });
  const errorSummary = useErrorSummary(form, save.error);
  const err = (f: string) => fieldError(save.error, f, t);
  const title = dwelling ? t("building.dwelling.edit_title", { label: dwelling.label }) : t("building.dwelling.add");
  return (
    <form ref={form} className="card" noValidate aria-labelledby="dwelling-form-title"
      onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      {errorSummary}
      <h3 id="dwelling-form-title">{title}</h3>
      <FormError error={save.error} />
      <Field id="dwelling-label" label={t("building.dwelling.label")} hint={t("building.dwelling.label_hint")} value={values.label}
        onChange={set("label")} error={err("label")} />
      <Field label={t("building.dwelling.area")} inputMode="decimal" value={values.area} onChange={set("area")}
        error={err("floor_area_m2")} />
      <Field label={t("building.dwelling.heating")} optional inputMode="numeric" hint={t("building.dwelling.tantiemes_hint")}
        value={values.heating} onChange={set("heating")} error={err("heating_tantiemes")} />
      <Field label={t("building.dwelling.hot_water")} optional inputMode="numeric"
        hint={t("building.dwelling.tantiemes_hint")} value={values.hot_water} onChange={set("hot_water")}
        error={err("hot_water_tantiemes")} />
      <button type="submit" disabled={save.isPending}>{dwelling ? t("building.dwelling.save") : t("building.dwelling.add")}</button>
      {dwelling && <> <button type="button" className="link-button" onClick={onCancel}>{t("building.dwelling.cancel")}</button></>}
    </form>
  );
}
