import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type MeterView } from "../api/client";
import { errorMessage, known, useI18n } from "../i18n";
import { Link } from "../router";
import * as addressMessages from "../messages/address";
import { addMessages } from "../messages";

addMessages(addressMessages);

/** The meter's data is withheld while the DSO's address of it differs from the dwelling's. */
export const addressHeld = (meter: MeterView) =>
  ["mismatch", "resident_confirmed", "rejected"].includes(meter.consent?.address_check ?? "");

export function AddressHold({ meter }: { meter: MeterView }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const confirm = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/meters/{meter_id}/address-confirmation", { params: { path: { meter_id: meter.id } } })),
    onSuccess: () => client.invalidateQueries(),
  });
  if (meter.consent?.address_check === "rejected") {
    return <div className="alert alert--error" role="alert">{t("address.rejected")}</div>;
  }
  if (meter.consent?.address_check === "resident_confirmed") {
    return <div className="alert alert--info" role="status" data-address-hold={meter.id}>{t("address.in_review")}</div>;
  }
  const parts = (meter.consent?.warnings ?? []).map((w) => `address.part.${w}`).filter(known);
  return (
    <div className="alert alert--info" role="alert" data-address-hold={meter.id}>
      <p><strong>{t("address.title")}</strong></p>
      <p>{t("address.intro")}</p>
      {parts.length > 0 && <ul>{parts.map((k) => <li key={k}>{t(k)}</li>)}</ul>}
      {confirm.error && <p>{errorMessage(t, confirm.error.code)}</p>}
      <div className="actions">
        <button type="button" className="button" onClick={() => confirm.mutate()} disabled={confirm.isPending}>
          {t("address.confirm")}
        </button>
        <Link className="button button--ghost" to="/dwelling">{t("address.fix")}</Link>
      </div>
    </div>
  );
}
