import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { Field, FormError, Select } from "../../components/Form";
import { dateTime } from "../../format";
import { Done, raw, useRefresh, useAdminI18n, ScrollRegion } from "./common";

type Kind = "electricity" | "gas" | "degree_days";
const CSV = { "Content-Type": "text/csv" };

function preview(kind: Kind, text: string) {
  const call = kind === "degree_days"
    ? api.POST("/api/v1/admin/degree-days/preview", { body: text as never, headers: CSV, ...raw })
    : api.POST("/api/v1/admin/tariffs/{energy}/preview", { params: { path: { energy: kind } }, body: text as never,
                                                           headers: CSV, ...raw });
  return unwrap(call);
}

function upload(kind: Kind, text: string, source: string) {
  const query = source ? { source } : {};
  const call = kind === "degree_days"
    ? api.PUT("/api/v1/admin/degree-days", { params: { query }, body: text as never, headers: CSV, ...raw })
    : api.PUT("/api/v1/admin/tariffs/{energy}", { params: { path: { energy: kind }, query }, body: text as never,
                                                  headers: CSV, ...raw });
  return unwrap(call);
}

function versions(kind: Kind) {
  return kind === "degree_days"
    ? unwrap(api.GET("/api/v1/admin/degree-days"))
    : unwrap(api.GET("/api/v1/admin/tariffs/{energy}", { params: { path: { energy: kind } } }));
}

/** Tariff and degree-day files: checked line by line first, stored as a new version only once valid. */
export function Catalogues() {
  const { t, lang } = useAdminI18n();
  const refresh = useRefresh();
  const fileId = useId();
  const [kind, setKind] = useState<Kind>("electricity");
  const [text, setText] = useState<string | null>(null);
  const [source, setSource] = useState("");
  const stored = useQuery({ queryKey: ["admin", "catalogue", kind], queryFn: () => versions(kind) });
  const check = useMutation({ mutationFn: () => preview(kind, text ?? "") });
  const save = useMutation({ mutationFn: () => upload(kind, text ?? "", source.trim()), onSuccess: refresh });
  const reset = () => {
    check.reset();
    save.reset();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.reset();
    check.mutate();
  };
  return (
    <section aria-labelledby="catalogues-title">
      <h2 id="catalogues-title">{t("admin.catalogues.title")}</h2>
      <p className="lead">{t("admin.catalogues.intro")}</p>
      <form className="card" onSubmit={submit}>
        <Select label={t("admin.catalogues.kind")} value={kind} onChange={(e) => {
          setKind(e.target.value as Kind);
          reset();
        }}>
          <option value="electricity">{t("admin.catalogues.electricity")}</option>
          <option value="gas">{t("admin.catalogues.gas")}</option>
          <option value="degree_days">{t("admin.catalogues.degree_days")}</option>
        </Select>
        <div className="field">
          <label htmlFor={fileId}>{t("admin.catalogues.file")}</label>
          <input id={fileId} type="file" accept=".csv,text/csv" required onChange={async (e) => {
            reset();
            const file = e.target.files?.[0];
            setText(file ? await file.text() : null);
          }} />
        </div>
        <Field label={t("admin.catalogues.source")} optional value={source} maxLength={300}
          onChange={(e) => setSource(e.target.value)} />
        <button className="button" type="submit" disabled={text === null || check.isPending}>
          {t("admin.catalogues.check")}
        </button>
      </form>
      <FormError error={check.error} />
      {check.data && <Preview preview={check.data} />}
      {check.data?.valid && (
        <div className="actions">
          <button type="button" className="button" disabled={save.isPending} onClick={() => save.mutate()}>
            {t("admin.catalogues.store")}
          </button>
        </div>
      )}
      <FormError error={save.error} />
      {save.data && <Done>{t("admin.catalogues.stored", { version: save.data.version, rows: save.data.rows })}</Done>}
      <h3>{t("admin.catalogues.versions")}</h3>
      <ul className="admin-list">
        {(stored.data ?? []).slice(0, 5).map((v) => (
          <li key={v.version}>
            <strong>{t("admin.catalogues.version", { version: v.version, rows: v.rows })}</strong>
            <p className="muted break">{dateTime(v.created_at, lang)} · {v.source}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Preview({ preview }: { preview: Schemas["CataloguePreview"] }) {
  const { t } = useAdminI18n();
  const wrong = new Set(preview.errors.map((e) => e.line));
  return (
    <div className="card" aria-live="polite">
      {preview.valid ? (
        <Done>{t("admin.catalogues.valid", { rows: preview.rows, current: preview.current_rows ?? "—" })}</Done>
      ) : (
        <div className="alert alert--error" role="alert">
          {t("admin.catalogues.invalid", { n: preview.errors.length })}
        </div>
      )}
      {preview.errors.length > 0 && (
        <ScrollRegion label={t("admin.catalogues.errors")}>
          <table>
            <caption>{t("admin.catalogues.errors")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.col.line")}</th>
                <th scope="col">{t("admin.col.column")}</th>
                <th scope="col">{t("admin.col.problem")}</th>
              </tr>
            </thead>
            <tbody>
              {preview.errors.map((e, i) => (
                <tr key={i}>
                  <td>{e.line ?? "—"}</td>
                  <td>{e.column ?? "—"}</td>
                  <td className="break">
                    <span className="mono">{e.code}</span> — {e.detail}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <details>
        <summary>{t("admin.catalogues.lines", { n: preview.lines.length })}</summary>
        <ScrollRegion label={t("admin.catalogues.lines", { n: preview.lines.length })}>
          <table>
            <caption className="visually-hidden">{t("admin.catalogues.lines", { n: preview.lines.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.col.line")}</th>
                {preview.columns.map((c) => (
                  <th scope="col" key={c}>{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {preview.lines.map((l) => (
                <tr key={l.line} className={wrong.has(l.line) ? "line-error" : undefined}>
                  <td>{wrong.has(l.line) ? `⚠ ${l.line}` : l.line}</td>
                  {l.cells.map((c, i) => (
                    <td key={i}>{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      </details>
    </div>
  );
}

/** The Base Adresse Nationale file: counted first (nothing kept), then imported. */
export function AddressBase() {
  const { t } = useAdminI18n();
  const refresh = useRefresh();
  const fileId = useId();
  const [file, setFile] = useState<File | null>(null);
  const run = useMutation({
    mutationFn: (dryRun: boolean) => unwrap(api.POST("/api/v1/admin/address-base", {
      params: { query: { dry_run: dryRun } }, body: file as never, ...raw,
      headers: { "Content-Type": file?.name.endsWith(".gz") ? "application/gzip" : "text/csv" } })),
    onSuccess: refresh,
  });
  const result = run.data;
  return (
    <section aria-labelledby="address-base-title">
      <h2 id="address-base-title">{t("admin.address_base.title")}</h2>
      <p className="lead">{t("admin.address_base.intro")}</p>
      <div className="card">
        <div className="field">
          <label htmlFor={fileId}>{t("admin.address_base.file")}</label>
          <input id={fileId} type="file" accept=".csv,.gz,text/csv,application/gzip" onChange={(e) => {
            run.reset();
            setFile(e.target.files?.[0] ?? null);
          }} />
        </div>
        <div className="actions">
          <button type="button" className="button button--secondary" disabled={!file || run.isPending}
            onClick={() => run.mutate(true)}>
            {t("admin.address_base.check")}
          </button>
          <button type="button" className="button" disabled={!file || run.isPending} onClick={() => run.mutate(false)}>
            {t("admin.address_base.import")}
          </button>
        </div>
      </div>
      <FormError error={run.error} />
      {result && (
        <div className="card" role="status">
          <p>{result.dry_run ? t("admin.address_base.would") : t("admin.address_base.done")}</p>
          <ul className="counts">
            <li><strong>{result.rows}</strong>{t("admin.address_base.rows")}</li>
            <li><strong>{result.added}</strong>{t("admin.address_base.added")}</li>
            <li><strong>{result.changed}</strong>{t("admin.address_base.changed")}</li>
            <li><strong>{result.removed}</strong>{t("admin.address_base.removed")}</li>
            <li><strong>{result.total}</strong>{t("admin.address_base.total")}</li>
          </ul>
        </div>
      )}
    </section>
  );
}
