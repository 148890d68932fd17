import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { ConfirmButton } from "../components/Confirm";
import { FormError } from "../components/Form";
import { dateTime } from "../format";
import { errorMessage, useI18n } from "../i18n";
import { navigate } from "../router";
import { AdviceNotes, Shares } from "./Advice";
import * as adviserMessages from "../messages/adviser";
import { addMessages } from "../messages";
import { ScrollRegion } from "../components/ScrollRegion";

addMessages(adviserMessages);

function Section({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function HeldData() {
  const { t } = useI18n();
  const data = useQuery({ queryKey: ["my-data"], retry: false,
    queryFn: async () => (await unwrap(api.GET("/api/v1/me/data"))) as Record<string, unknown> });
  if (data.isPending) return <p>{t("app.loading")}</p>;
  if (data.error) return <FormError error={data.error} />;
  return (
    <ul className="held">
      {Object.entries(data.data).map(([name, content]) => (
        <li key={name}>
          <details>
            <summary>
              {name}
              {Array.isArray(content) ? ` (${content.length})` : ""}
            </summary>
            <pre>{JSON.stringify(content, null, 2)}</pre>
          </details>
        </li>
      ))}
    </ul>
  );
}

function AccessLog() {
  const { t, lang } = useI18n();
  const log = useQuery({ queryKey: ["access-log"], retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/me/access-log")) });
  if (log.isPending) return <p>{t("app.loading")}</p>;
  if (log.error) return <FormError error={log.error} />;
  if (!log.data || log.data.length === 0) return <p>{t("data.log.none")}</p>;
  return (
    <ScrollRegion label={t("data.log")}>
      <table>
        <thead>
          <tr>
            <th scope="col">{t("data.log.when")}</th>
            <th scope="col">{t("data.log.who")}</th>
            <th scope="col">{t("data.log.what")}</th>
          </tr>
        </thead>
        <tbody>
          {log.data.map((e, i) => (
            <tr key={i}>
              <td>{dateTime(e.at, lang)}</td>
              <td>{`${e.reader_name} · ${e.reader_role}`}</td>
              <td>{e.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

function DeleteAccount() {
  const { t } = useI18n();
  const client = useQueryClient();
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/me")),
    onSuccess: () => {
      client.clear();
      navigate("/goodbye", true);
    },
  });
  return (
    <>
      <p>{t("data.delete.intro")}</p>
      {remove.error && <p role="alert" className="alert alert--error">{errorMessage(t, remove.error.code)}</p>}
      <ConfirmButton danger label={t("data.delete")} question={t("data.delete.confirm")} confirm={t("data.delete.yes")}
        onConfirm={() => remove.mutate()} busy={remove.isPending} />
    </>
  );
}

export default function MyData() {
  const { t } = useI18n();
  return (
    <div>
      <h1>{t("data.title")}</h1>
      <p className="lead">{t("data.intro")}</p>
      <Section id="held-title" title={t("data.held")}>
        <HeldData />
      </Section>
      <Section id="export-title" title={t("data.export")}>
        <div className="actions">
          <a className="button button--secondary" href="/api/v1/me/export?format=json" download>
            {t("data.export.json")}
          </a>
          <a className="button button--secondary" href="/api/v1/me/export?format=csv" download>
            {t("data.export.csv")}
          </a>
          <a className="button button--secondary" href="/api/v1/me/export?format=espi" download>
            {t("data.export.espi")}
          </a>
        </div>
      </Section>
      <Section id="shares-title" title={t("data.shares")}>
        <Shares />
      </Section>
      <Section id="advice-title" title={t("advice.title")}>
        <AdviceNotes />
      </Section>
      <Section id="log-title" title={t("data.log")}>
        <AccessLog />
      </Section>
      <Section id="delete-title" title={t("data.delete")}>
        <DeleteAccount />
      </Section>
    </div>
  );
}
