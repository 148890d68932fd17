import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Account, type Schemas } from "../api/client";
import { Field, FormError, Select, fieldError, useErrorSummary } from "../components/Form";
import { day, euros, kwh } from "../format";
import { useI18n, type Key } from "../i18n";
import * as messages from "../messages/actions";
import { addMessages } from "../messages";

addMessages(messages);

type Action = Schemas["ActionView"];
type CommitmentView = Schemas["CommitmentView"];
type Pathway = Action["pathway"];
const PATHWAYS: Pathway[] = ["bill", "comfort", "eco_citizen"];

function Saving({ action }: { action: Action }) {
  const { t, lang } = useI18n();
  const e = action.estimate;
  if (!e) return null;
  if (e.kwh_year == null) {
    const key = `actions.saving.${e.basis ?? "no_consumption"}` as Key;
    return t(key) ? <p className="hint">{t(key)}</p> : null;
  }
  const energy = kwh(e.kwh_year * 1000, lang);
  return (
    <p className="big-sentence" title={e.basis ?? undefined}>
      {e.eur_year ? t("actions.saving.eur", { kwh: energy, eur: euros(e.eur_year, lang) }) : t("actions.saving", { kwh: energy })}
    </p>
  );
}

function ActionCard({ action, committed }: { action: Action; committed: boolean }) {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const commit = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/me/actions", { body: { action_id: action.id } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["my-actions"] }),
  });
  const title = lang === "fr" ? action.title_fr : action.title_en;
  return (
    <li className="card action" data-action={action.id}>
      <h3>{title}</h3>
      {action.suggested && (
        <p>
          <span className="badge badge--active">{t("actions.suggested")}</span>
          {action.reasons.length > 0 && (
            <span className="hint">
              {" "}
              {t("actions.reasons", { reasons: action.reasons.map((r) => t(`actions.reason.${r}` as Key)).join(", ") })}
            </span>
          )}
        </p>
      )}
      <p>{lang === "fr" ? action.explanation_fr : action.explanation_en}</p>
      <Saving action={action} />
      <p className="hint">
        {t("actions.effort", { effort: t(`actions.effort.${action.effort}` as Key) })} ·{" "}
        {t("actions.source", { source: action.source })}
      </p>
      <FormError error={commit.error} />
      {committed || commit.isSuccess ? (
        <p className="alert alert--ok" role="status">
          {t("actions.committed")}
        </p>
      ) : (
        <button type="button" className="button" onClick={() => commit.mutate()} disabled={commit.isPending}
          aria-label={`${t("actions.commit")} : ${title}`}>
          {t("actions.commit")}
        </button>
      )}
    </li>
  );
}

function Effect({ c }: { c: CommitmentView }) {
  const { t, lang } = useI18n();
  const e = c.effect;
  if (!e) return null;
  if (!e.available || e.change_pct == null) {
    const reason = e.reason ?? "too_early";
    return <p>{t(`actions.effect.${reason}` as Key, { date: day(c.measurable_from, lang) })}</p>;
  }
  return (
    <div data-effect={e.change_pct}>
      <p className="big-sentence">
        {t("actions.effect.change", {
          direction: t(e.change_pct <= 0 ? "actions.effect.down" : "actions.effect.up"),
          pct: Math.abs(e.change_pct).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB", { maximumFractionDigits: 1 }),
          baseline: t(`actions.effect.baseline.${e.baseline ?? "last_year"}` as Key),
        })}
      </p>
      <p className="hint">
        {t("actions.effect.figures", { kwh: kwh((e.kwh ?? 0) * 1000, lang), baseline_kwh: kwh((e.baseline_kwh ?? 0) * 1000, lang) })}{" "}
        {t(e.weather_normalised ? "actions.effect.normalised" : "actions.effect.not_normalised")}
      </p>
    </div>
  );
}

function MyCommitments({ commitments }: { commitments: CommitmentView[] }) {
  const { t, lang } = useI18n();
  return (
    <section className="card" aria-labelledby="mine-title">
      <h2 id="mine-title">{t("actions.mine")}</h2>
      {commitments.length === 0 ? (
        <p>{t("actions.mine.none")}</p>
      ) : (
        <ul className="commitments">
          {commitments.map((c) => (
            <li key={c.id} data-commitment={c.action.id}>
              <h3>{lang === "fr" ? c.action.title_fr : c.action.title_en}</h3>
              <p className="hint">{t("actions.mine.since", { date: day(c.committed_on, lang) })}</p>
              <Effect c={c} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const EMPTY = { title_fr: "", title_en: "", explanation_fr: "", explanation_en: "", pathway: "bill", energy: "heating",
                use: "heating", effort: "low", saving: "", season: "all", source: "" };

/** The advisers' and administrators' form: one new action of the catalogue. */
function ActionEditor() {
  const { t } = useI18n();
  const client = useQueryClient();
  const [form, setForm] = useState(EMPTY);
  const element = useRef<HTMLFormElement>(null);
  const save = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/admin/actions", {
        body: (({ saving, ...rest }) => ({ ...rest, saving_share: Number(saving.replace(",", ".")) / 100 }))(
          form) as unknown as Schemas["ActionBody"],
      })),
    onSuccess: () => {
      setForm(EMPTY);
      client.invalidateQueries({ queryKey: ["actions"] });
    },
  });
  const errorSummary = useErrorSummary(element, save.error);
  const bind = (name: keyof typeof EMPTY) => ({
    name,
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [name]: e.target.value })),
    error: fieldError(save.error, name === "saving" ? "saving_share" : name, t),
  });
  const options = (prefix: string, values: string[]) =>
    values.map((v) => (
      <option key={v} value={v}>
        {t(`${prefix}.${v}` as Key)}
      </option>
    ));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form ref={element} onSubmit={submit} noValidate className="card" aria-labelledby="editor-title">
      {errorSummary}
      <h2 id="editor-title">{t("actions.editor")}</h2>
      <p>{t("actions.editor.intro")}</p>
      <Field label={t("actions.field.title_fr")} {...bind("title_fr")} />
      <Field label={t("actions.field.title_en")} {...bind("title_en")} />
      <Field label={t("actions.field.explanation_fr")} {...bind("explanation_fr")} />
      <Field label={t("actions.field.explanation_en")} {...bind("explanation_en")} />
      <Select label={t("actions.pathway")} {...bind("pathway")}>{options("actions.pathway", PATHWAYS)}</Select>
      <Select label={t("actions.field.energy")} {...bind("energy")}>
        {options("actions.energy", ["heating", "hot_water"])}
        {options("energy", ["electricity", "gas", "heat", "fuel_oil", "wood", "water"])}
        {options("actions.energy", ["any"])}
      </Select>
      <Select label={t("actions.field.use")} {...bind("use")}>
        {options("actions.use", ["heating", "hot_water", "appliances", "all"])}
      </Select>
      <Select label={t("actions.field.effort")} {...bind("effort")}>
        {options("actions.effort", ["low", "medium", "high"])}
      </Select>
      <Field label={t("actions.field.saving")} inputMode="decimal" {...bind("saving")} />
      <Select label={t("actions.field.season")} {...bind("season")}>
        {options("actions.season", ["all", "heating", "summer"])}
      </Select>
      <Field label={t("actions.field.source")} {...bind("source")} />
      <FormError error={save.error} />
      {save.isSuccess && (
        <div className="alert alert--ok" role="status">
          {t("actions.editor.done")}
        </div>
      )}
      <button className="button" type="submit" disabled={save.isPending}>
        {t("actions.editor.submit")}
      </button>
    </form>
  );
}

export default function Actions({ account }: { account: Account }) {
  const { t } = useI18n();
  const [pathway, setPathway] = useState<Pathway | "all">("all");
  const actions = useQuery({ queryKey: ["actions"], queryFn: () => unwrap(api.GET("/api/v1/actions")) });
  const mine = useQuery({ queryKey: ["my-actions"], queryFn: () => unwrap(api.GET("/api/v1/me/actions")) });
  const committed = new Set((mine.data ?? []).map((c) => c.action.id));
  const shown = (actions.data ?? []).filter((a) => pathway === "all" || a.pathway === pathway);
  const editor = account.roles.includes("adviser") || account.roles.includes("admin");
  return (
    <div>
      <h1>{t("actions.title")}</h1>
      <p>{t("actions.intro")}</p>
      {mine.data && <MyCommitments commitments={mine.data} />}
      <Select label={t("actions.pathway")} name="pathway" value={pathway}
        onChange={(e) => setPathway(e.target.value as Pathway | "all")}>
        <option value="all">{t("actions.pathway.all")}</option>
        {PATHWAYS.map((p) => (
          <option key={p} value={p}>
            {t(`actions.pathway.${p}` as Key)}
          </option>
        ))}
      </Select>
      {(actions.error || mine.error) && <FormError error={actions.error || mine.error} />}
      {actions.data && shown.length === 0 && <p>{t("actions.none")}</p>}
      <ul className="meters">
        {shown.map((a) => (
          <ActionCard key={a.id} action={a} committed={committed.has(a.id)} />
        ))}
      </ul>
      {editor && <ActionEditor />}
    </div>
  );
}
