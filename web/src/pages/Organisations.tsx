import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { Field, FormError, Select, fieldError, useErrorSummary } from "../components/Form";
import OrgExcess from "../components/OrgExcess";
import { errorMessage, useI18n, type Key } from "../i18n";
import { Link } from "../router";
import LandlordStatements from "../components/LandlordStatements";
import * as messages from "../messages/orgs";
import { addMessages } from "../messages";
import { ScrollRegion } from "../components/ScrollRegion";

addMessages(messages);

type BuildingBody = Schemas["BuildingCreate"];
const KINDS = ["municipality", "landlord", "company"] as const;
const USES = ["school", "gymnasium", "offices", "housing", "nursery", "town_hall", "pool", "other"] as const;

/** `/orgs`: the account's organisations; `/orgs/<id>`: one of them. */
export default function Organisations({ path, professional }: { path: string; professional: boolean }) {
  const id = path.split("/")[2];
  return id ? <Organisation id={id} /> : <OrganisationList professional={professional} />;
}

function OrganisationList({ professional }: { professional: boolean }) {
  const { t } = useI18n();
  const mine = useQuery({ queryKey: ["orgs"], queryFn: () => unwrap(api.GET("/api/v1/orgs")) });
  return (
    <section aria-labelledby="orgs-title">
      <h1 id="orgs-title">{t("orgs.title")}</h1>
      {mine.data && mine.data.length === 0 && <p>{t("orgs.none")}</p>}
      <ul className="list">
        {mine.data?.map((o) => (
          <li key={o.id}>
            <Link to={`/orgs/${o.id}`}>{o.name}</Link> — {t(`orgs.kind.${o.kind}` as Key)}, {t(`orgs.role.${o.my_role}` as Key)}
          </li>
        ))}
      </ul>
      <FormError error={mine.error} />
      {professional && <CreateOrganisation />}
    </section>
  );
}

function CreateOrganisation() {
  const { t } = useI18n();
  const client = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [name, setName] = useState("");
  const [kind, setKind] = useState<(typeof KINDS)[number]>("municipality");
  const [siren, setSiren] = useState("");
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/orgs", { body: { name, kind, siren: siren.trim() || null } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["orgs"] }),
  });
  const errorSummary = useErrorSummary(form, create.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form ref={form} onSubmit={submit} className="card" noValidate>
      {errorSummary}
      <h2>{t("orgs.create")}</h2>
      <FormError error={create.error} />
      <Field label={t("orgs.name")} value={name} onChange={(e) => setName(e.target.value)} error={fieldError(create.error, "name", t)} />
      <Select label={t("orgs.kind")} value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
        {KINDS.map((k) => (
          <option key={k} value={k}>{t(`orgs.kind.${k}` as Key)}</option>
        ))}
      </Select>
      <Field label={t("orgs.siren")} optional inputMode="numeric" value={siren} onChange={(e) => setSiren(e.target.value)}
        error={fieldError(create.error, "siren", t)} />
      <button type="submit" disabled={create.isPending}>{t("orgs.create")}</button>
    </form>
  );
}

function Organisation({ id }: { id: string }) {
  const { t } = useI18n();
  const org = useQuery({
    queryKey: ["org", id],
    queryFn: () => unwrap(api.GET("/api/v1/orgs/{org_id}", { params: { path: { org_id: id } } })),
  });
  const buildings = useQuery({
    queryKey: ["org", id, "buildings"],
    queryFn: () => unwrap(api.GET("/api/v1/orgs/{org_id}/buildings", { params: { path: { org_id: id } } })),
  });
  const [year, setYear] = useState(new Date().getFullYear() - 1);
  if (org.error) return <FormError error={org.error} />;
  if (!org.data) return <p>{t("app.loading")}</p>;
  const manager = org.data.my_role === "manager";
  const base = `/api/v1/orgs/${id}`;
  return (
    <section aria-labelledby="org-title">
      <p><Link to="/orgs">{t("orgs.back")}</Link></p>
      <h1 id="org-title">{org.data.name}</h1>
      <h2>{t("orgs.buildings")}</h2>
      {buildings.data && buildings.data.length === 0 && <p>{t("orgs.no_buildings")}</p>}
      {buildings.data && buildings.data.length > 0 && (
        <ScrollRegion label={t("orgs.buildings")}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t("orgs.building.name")}</th>
                <th scope="col">{t("orgs.building.use_type")}</th>
                <th scope="col">{t("orgs.building.area")}</th>
                <th scope="col">{t("orgs.building.municipality")}</th>
                <th scope="col">{t("orgs.building.meters")}</th>
              </tr>
            </thead>
            <tbody>
              {buildings.data.map((b) => (
                <tr key={b.id}>
                  <th scope="row"><Link to={`/orgs/${id}/buildings/${b.id}`}>{b.name}</Link>{b.site ? ` (${b.site})` : ""}</th>
                  <td>{t(`orgs.use.${b.use_type}` as Key)}</td>
                  <td>{b.heated_area_m2.toLocaleString()}</td>
                  <td>{b.municipality}</td>
                  <td>{(b.meters ?? []).map((m) => m.label || m.identifier).join(", ") || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <OrgExcess id={id} />
      <h2>{t("orgs.downloads")}</h2>
      <label htmlFor="org-year">{t("orgs.year")}</label>{" "}
      <select id="org-year" value={year} onChange={(e) => setYear(Number(e.target.value))}>
        {[0, 1, 2, 3].map((n) => new Date().getFullYear() - n).map((y) => <option key={y} value={y}>{y}</option>)}
      </select>
      <ul className="list">
        <li><a href={`${base}/spreadsheet?year=${year}&format=xlsx`} download>{t("orgs.spreadsheet_xlsx")}</a></li>
        <li><a href={`${base}/spreadsheet?year=${year}&format=csv`} download>{t("orgs.spreadsheet_csv")}</a></li>
        <li><a href={`${base}/report?year=${year}&format=html`} target="_blank" rel="noopener">{t("orgs.report_html")}</a></li>
        <li><a href={`${base}/report?year=${year}&format=pdf`} download>{t("orgs.report_pdf")}</a></li>
      </ul>
      <LandlordStatements orgId={id} buildings={buildings.data ?? []} />
      <h2>{t("orgs.members")}</h2>
      <ul className="list">
        {org.data.members.map((m) => (
          <li key={m.account_id}>{m.email} — {t(`orgs.role.${m.role}` as Key)}</li>
        ))}
      </ul>
      {manager && <AddMember id={id} />}
      {manager && <AddBuilding id={id} />}
    </section>
  );
}

function AddMember({ id }: { id: string }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<"manager" | "viewer">("viewer");
  const add = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/v1/orgs/{org_id}/members", { params: { path: { org_id: id } }, body: { email, role } })),
    onSuccess: (org) => {
      client.setQueryData(["org", id], org);
      setEmail("");
    },
  });
  const errorSummary = useErrorSummary(form, add.error);
  return (
    <form ref={form} className="card" noValidate onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
      {errorSummary}
      <h3>{t("orgs.add_member")}</h3>
      <FormError error={add.error} />
      <Field label={t("orgs.member_email")} type="email" autoComplete="off" value={email}
        onChange={(e) => setEmail(e.target.value)} error={fieldError(add.error, "email", t)
          ?? (add.error?.code === "account_not_found" ? errorMessage(t, add.error.code) : undefined)} />
      <Select label={t("orgs.member_role")} value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
        <option value="viewer">{t("orgs.role.viewer")}</option>
        <option value="manager">{t("orgs.role.manager")}</option>
      </Select>
      <button type="submit" disabled={add.isPending}>{t("orgs.add_member")}</button>
    </form>
  );
}

const EMPTY = { name: "", site: "", street: "", postal_code: "", municipality: "", insee_code: "", use_type: "school", heated_area_m2: "" };

function AddBuilding({ id }: { id: string }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [values, setValues] = useState(EMPTY);
  const set = (k: keyof typeof EMPTY) => (e: { target: { value: string } }) => setValues({ ...values, [k]: e.target.value });
  const add = useMutation({
    mutationFn: () => {
      const area = Number(values.heated_area_m2.replace(",", "."));
      const body = { ...values, site: values.site.trim() || null, heated_area_m2: Number.isFinite(area) && values.heated_area_m2 ? area : 0 } as BuildingBody;
      return unwrap(api.POST("/api/v1/orgs/{org_id}/buildings", { params: { path: { org_id: id } }, body }));
    },
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["org", id, "buildings"] });
      setValues(EMPTY);
    },
  });
  const errorSummary = useErrorSummary(form, add.error);
  const err = (f: string) => fieldError(add.error, f, t);
  return (
    <form ref={form} className="card" noValidate onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
      {errorSummary}
      <h3>{t("orgs.add_building")}</h3>
      <FormError error={add.error} />
      <Field label={t("orgs.building.name")} value={values.name} onChange={set("name")} error={err("name")} />
      <Field label={t("orgs.building.site")} optional value={values.site} onChange={set("site")} />
      <Field label={t("orgs.building.street")} value={values.street} onChange={set("street")} error={err("street")} />
      <Field label={t("orgs.building.postal_code")} inputMode="numeric" value={values.postal_code} onChange={set("postal_code")}
        error={err("postal_code")} />
      <Field label={t("orgs.building.municipality")} value={values.municipality} onChange={set("municipality")} error={err("municipality")} />
      <Field label={t("orgs.building.insee_code")} value={values.insee_code} onChange={set("insee_code")} error={err("insee_code")} />
      <Select label={t("orgs.building.use_type")} value={values.use_type} onChange={set("use_type")}>
        {USES.map((u) => <option key={u} value={u}>{t(`orgs.use.${u}` as Key)}</option>)}
      </Select>
      <Field label={t("orgs.building.area")} inputMode="decimal" value={values.heated_area_m2} onChange={set("heated_area_m2")}
        error={err("heated_area_m2")} />
      <button type="submit" disabled={add.isPending}>{t("orgs.add_building")}</button>
    </form>
  );
}

