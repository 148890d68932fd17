import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import { ConfirmButton } from "../../components/Confirm";
import { Field, FormError } from "../../components/Form";
import { dateTime, day } from "../../format";
import { Done, Loaded, useRefresh, useStatus, useAdminI18n, ScrollRegion } from "./common";

type AdminAccount = Schemas["AdminAccount"];
type Role = Schemas["Role"];
const ROLES: Role[] = ["resident", "adviser", "professional", "analyst", "admin"];

export function Accounts() {
  const { t } = useAdminI18n();
  const [typed, setTyped] = useState("");
  const [q, setQ] = useState("");
  const found = useQuery({
    queryKey: ["admin", "accounts", q],
    queryFn: () => unwrap(api.GET("/api/v1/admin/accounts", { params: { query: q ? { q } : {} } })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQ(typed.trim());
  };
  return (
    <section aria-labelledby="accounts-title">
      <h2 id="accounts-title">{t("admin.accounts.title")}</h2>
      <form className="inline-form card" role="search" onSubmit={submit}>
        <Field label={t("admin.accounts.search")} type="search" optional value={typed}
          onChange={(e) => setTyped(e.target.value)} />
        <button className="button" type="submit">
          {t("admin.search")}
        </button>
      </form>
      <Loaded query={found} empty={t("admin.accounts.none")}>
        {(rows) => (
          <ul className="admin-list" aria-label={t("admin.accounts.results")}>
            {rows.map((a) => (
              <AccountItem key={a.id} account={a} />
            ))}
          </ul>
        )}
      </Loaded>
    </section>
  );
}

function AccountItem({ account }: { account: AdminAccount }) {
  const { t, lang } = useAdminI18n();
  const status = useStatus();
  const [open, setOpen] = useState(false);
  return (
    <li>
      <div className="meter-head">
        <strong className="break">{account.email}</strong>
        <span className={`badge badge--${account.status === "active" ? "active" : "revoked"}`}>
          {status(account.status)}
        </span>
      </div>
      <p className="muted">
        {account.roles.map((r) => t(`admin.role.${r}`)).join(", ")} · {t("admin.accounts.created", {
          date: day(account.created_at, lang) })}
      </p>
      <button type="button" className="button button--secondary" aria-expanded={open}
        onClick={() => setOpen((o) => !o)}>
        {open ? t("admin.accounts.hide") : t("admin.accounts.open")}
      </button>
      {open && <AccountDetail account={account} />}
    </li>
  );
}

function AccountDetail({ account }: { account: AdminAccount }) {
  const { t, lang } = useAdminI18n();
  const status = useStatus();
  const refresh = useRefresh();
  // Opening the details is a read of the resident's consents: written into their access log.
  const detail = useQuery({
    queryKey: ["admin", "account", account.id],
    queryFn: () => unwrap(api.GET("/api/v1/admin/accounts/{account_id}", { params: { path: { account_id: account.id } } })),
  });
  const [reason, setReason] = useState("");
  const setStatus = useMutation({
    mutationFn: (value: "active" | "disabled") =>
      unwrap(api.PUT("/api/v1/admin/accounts/{account_id}/status", {
        params: { path: { account_id: account.id } }, body: { status: value, reason: reason || null } })),
    onSuccess: refresh,
  });
  const [roles, setRoles] = useState<Role[]>(account.roles);
  const saveRoles = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/v1/admin/accounts/{account_id}/roles", {
      params: { path: { account_id: account.id } }, body: { roles } })),
    onSuccess: refresh,
  });
  const d = detail.data;
  return (
    <div className="card">
      {detail.isPending && <p>{t("app.loading")}</p>}
      <FormError error={detail.error} />
      {d && (
        <>
          <p className="muted">{t("admin.accounts.logged")}</p>
          <dl className="facts">
            <div>
              <dt>{t("admin.accounts.verified")}</dt>
              <dd>{d.email_verified ? t("admin.yes") : t("admin.no")}</dd>
            </div>
            <div>
              <dt>{t("admin.accounts.sessions")}</dt>
              <dd>{d.sessions}</dd>
            </div>
            <div>
              <dt>{t("admin.accounts.terms")}</dt>
              <dd>{d.terms_accepted.map((a) => `${a.version} (${day(a.accepted_at, lang)})`).join(", ") || "—"}</dd>
            </div>
            <div>
              <dt>{t("admin.accounts.deletion")}</dt>
              <dd>{status(d.deletion)}</dd>
            </div>
          </dl>
          <h3>{t("admin.accounts.consents")}</h3>
          {d.consents.length === 0 ? (
            <p className="muted">{t("admin.accounts.no_meters")}</p>
          ) : (
            <ScrollRegion label={t("admin.accounts.consents")}>
              <table>
                <caption className="visually-hidden">{t("admin.accounts.consents")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("admin.col.meter")}</th>
                    <th scope="col">{t("admin.col.dso")}</th>
                    <th scope="col">{t("admin.col.consent")}</th>
                    <th scope="col">{t("admin.col.until")}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.consents.map((m) => (
                    <tr key={m.id}>
                      <td className="mono">{m.identifier}</td>
                      <td>{m.dso} · {m.channel}</td>
                      <td>{status(m.consent?.status)}</td>
                      <td>{day(m.consent?.expires_at, lang) || "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
          )}
        </>
      )}
      <fieldset>
        <legend>{t("admin.accounts.roles")}</legend>
        {ROLES.map((r) => (
          <div className="field field--check" key={r}>
            <input id={`role-${account.id}-${r}`} type="checkbox" checked={roles.includes(r)}
              onChange={(e) => setRoles((now) => (e.target.checked ? [...now, r] : now.filter((x) => x !== r)))} />
            <label htmlFor={`role-${account.id}-${r}`}>{t(`admin.role.${r}`)}</label>
          </div>
        ))}
        <div className="actions">
          <button type="button" className="button button--secondary" disabled={!roles.length || saveRoles.isPending}
            onClick={() => saveRoles.mutate()}>
            {t("admin.accounts.save_roles")}
          </button>
        </div>
        <FormError error={saveRoles.error} />
        {saveRoles.isSuccess && <Done>{t("admin.accounts.roles_saved")}</Done>}
      </fieldset>
      <Field label={t("admin.reason")} optional value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
      {account.status === "active" ? (
        <ConfirmButton danger label={t("admin.accounts.disable")} question={t("admin.accounts.disable.question")}
          confirm={t("admin.accounts.disable.confirm")} busy={setStatus.isPending}
          onConfirm={() => setStatus.mutate("disabled")} />
      ) : (
        <button type="button" className="button" disabled={setStatus.isPending} onClick={() => setStatus.mutate("active")}>
          {t("admin.accounts.enable")}
        </button>
      )}
      <FormError error={setStatus.error} />
      {setStatus.isSuccess && <Done>{t("admin.accounts.status_saved", { when: dateTime(setStatus.data.disabled_at ?? new Date().toISOString(), lang) })}</Done>}
    </div>
  );
}
