import { useState } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { Select } from "../../components/Form";
import { dateTime } from "../../format";
import { known } from "../../i18n";
import { useAdminI18n, type AdminKey, ScrollRegion } from "./common";

const ACTIONS = ["account.disabled", "account.enabled", "account.roles_set", "resident.consents_viewed",
  "resident.meters_viewed", "erasure.validated", "address_mismatch.decided", "terms.drafted", "terms.draft_edited",
  "terms.published", "tariffs.uploaded", "degree_days.uploaded", "sge_subscription.recorded", "sge_subscription.ended",
  "collection.started", "meter_claim.released", "address_base.imported"];
const PAGE = 50;

/** Every administrator action, the newest first, page after page. */
export function Audit() {
  const { t, lang } = useAdminI18n();
  const [action, setAction] = useState("");
  const entries = useInfiniteQuery({
    queryKey: ["admin", "audit", action],
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) => unwrap(api.GET("/api/v1/admin/audit", { params: { query: {
      limit: PAGE, ...(action ? { action } : {}), ...(pageParam ? { before: pageParam } : {}) } } })),
    getNextPageParam: (last) => (last.length === PAGE ? last[last.length - 1].id : undefined),
  });
  const rows = entries.data?.pages.flat() ?? [];
  const label = (a: string) => (known(`admin.action.${a}`) ? t(`admin.action.${a}` as AdminKey) : a);
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">{t("admin.audit.title")}</h2>
      <p className="lead">{t("admin.audit.intro")}</p>
      <Select label={t("admin.audit.filter")} optional value={action} onChange={(e) => setAction(e.target.value)}>
        <option value="">{t("admin.audit.all")}</option>
        {ACTIONS.map((a) => (
          <option key={a} value={a}>{label(a)}</option>
        ))}
      </Select>
      {entries.isPending ? (
        <p>{t("app.loading")}</p>
      ) : rows.length === 0 ? (
        <p className="muted">{t("admin.audit.none")}</p>
      ) : (
        <ScrollRegion label={t("admin.audit.title")}>
          <table>
            <caption className="visually-hidden">{t("admin.audit.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("admin.col.when")}</th>
                <th scope="col">{t("admin.col.who")}</th>
                <th scope="col">{t("admin.col.action")}</th>
                <th scope="col">{t("admin.col.target")}</th>
                <th scope="col">{t("admin.col.request")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.id}>
                  <td>{dateTime(e.at, lang)}</td>
                  <td className="break">{e.actor_email}</td>
                  <td>{label(e.action)}</td>
                  <td className="mono break">{e.target ?? "—"}</td>
                  <td className="mono break">{e.request_id ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {entries.hasNextPage && (
        <button type="button" className="button button--secondary" disabled={entries.isFetchingNextPage}
          onClick={() => void entries.fetchNextPage()}>
          {t("admin.audit.more")}
        </button>
      )}
    </section>
  );
}
