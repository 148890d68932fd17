import { useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { ConfirmButton } from "../../components/Confirm";
import { Field, FormError } from "../../components/Form";
import { dateTime, day } from "../../format";
import { ListSection, useRefresh, useStatus, useAdminI18n } from "./common";

/** Deletion requests waiting for the administrator's check, being erased, or stalled. */
export function Erasures() {
  const { t } = useAdminI18n();
  const requests = useQuery({
    queryKey: ["admin", "erasures"],
    queryFn: () => unwrap(api.GET("/api/v1/admin/erasure-requests")),
  });
  return (
    <ListSection id="erasures-title" title={t("admin.erasures.title")} intro={t("admin.erasures.intro")}
      query={requests} empty={t("admin.erasures.none")} item={(r) => <ErasureItem key={r.id} request={r} />} />
  );
}

function ErasureItem({ request }: { request: Schemas["ErasureRequest"] }) {
  const { t, lang } = useAdminI18n();
  const status = useStatus();
  const refresh = useRefresh();
  const validate = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/admin/erasure-requests/{request_id}/validate", {
      params: { path: { request_id: request.id } } })),
    onSuccess: refresh,
  });
  return (
    <li>
      <div className="meter-head">
        <strong className="break">{request.email ?? t("admin.erasures.erased")}</strong>
        <span className="badge badge--requested">{status(request.status)}</span>
      </div>
      <p className="muted">
        {t("admin.erasures.dates", { asked: dateTime(request.requested_at, lang), due: day(request.due_at, lang) })}
        {request.services_pending.length > 0 && ` · ${t("admin.erasures.pending", { services: request.services_pending.join(", ") })}`}
      </p>
      {(request.status === "pending_validation" || request.status === "stalled") && (
        <ConfirmButton danger label={t("admin.erasures.validate")} question={t("admin.erasures.validate.question")}
          confirm={t("admin.erasures.validate.confirm")} busy={validate.isPending} onConfirm={() => validate.mutate()} />
      )}
      <FormError error={validate.error} />
    </li>
  );
}

/** Meters whose DSO address differs from the dwelling: the data stays withheld until decided. */
export function Mismatches() {
  const { t } = useAdminI18n();
  const pending = useQuery({
    queryKey: ["admin", "mismatches"],
    queryFn: () => unwrap(api.GET("/api/v1/admin/address-mismatches")),
  });
  return (
    <ListSection id="mismatches-title" title={t("admin.mismatches.title")} intro={t("admin.mismatches.intro")}
      query={pending} empty={t("admin.mismatches.none")}
      item={(m) => <MismatchItem key={m.consent_id} mismatch={m} />} />
  );
}

function MismatchItem({ mismatch }: { mismatch: Schemas["AddressMismatch"] }) {
  const { t, lang } = useAdminI18n();
  const status = useStatus();
  const refresh = useRefresh();
  const [note, setNote] = useState("");
  const decide = useMutation({
    mutationFn: (decision: "clear" | "reject") => unwrap(api.POST("/api/v1/admin/address-mismatches/{meter_id}", {
      params: { path: { meter_id: mismatch.meter_id } }, body: { decision, note: note || null } })),
    onSuccess: refresh,
  });
  return (
    <li>
      <div className="meter-head">
        <strong className="mono">{mismatch.identifier}</strong>
        <span className="badge badge--requested">{status(mismatch.address_check)}</span>
      </div>
      <p className="muted">
        {mismatch.dso} · {mismatch.channel} · {t("admin.mismatches.parts", {
          parts: mismatch.mismatch.map((p) => t(`admin.part.${p}`)).join(", ") })} · {t("admin.since", {
          date: dateTime(mismatch.since, lang) })}
      </p>
      <Field label={t("admin.note")} optional value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
      <div className="actions">
        <button type="button" className="button" disabled={decide.isPending} onClick={() => decide.mutate("clear")}>
          {t("admin.mismatches.clear")}
        </button>
        <ConfirmButton danger label={t("admin.mismatches.reject")} question={t("admin.mismatches.reject.question")}
          confirm={t("admin.mismatches.reject.confirm")} busy={decide.isPending} onConfirm={() => decide.mutate("reject")} />
      </div>
      <FormError error={decide.error} />
    </li>
  );
}
