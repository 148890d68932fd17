import "./accountMessages";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { FormError } from "../components/Form";
import { dateTime } from "../format";
import { useI18n } from "../i18n";
import { Link } from "../router";
import { useNotifications } from "./Account";

type Note = Schemas["NotificationView"];

/** A link of ours opens in the app; the path is enough (the e-mail's address names the public host). */
function inApp(link: string): string {
  try {
    const url = new URL(link, location.origin);
    return url.origin === location.origin || url.pathname.startsWith("/meters/") ? url.pathname : link;
  } catch {
    return link;
  }
}

export default function Notifications() {
  const { t, lang } = useI18n();
  const client = useQueryClient();
  const notes = useNotifications();
  const read = useMutation({
    mutationFn: (ids: string[]) =>
      Promise.all(ids.map((id) => unwrap(api.POST("/api/v1/me/notifications/{notification_id}/read",
        { params: { path: { notification_id: id } } })))),
    onSuccess: (updated) => {
      const byId = new Map(updated.map((n) => [n.id, n]));
      client.setQueryData<Note[]>(["notifications"], (old) => old?.map((n) => byId.get(n.id) ?? n));
    },
  });
  const unread = notes.data?.filter((n) => !n.read_at) ?? [];
  return (
    <div className="notifications">
      <h1>{t("notifications.title")}</h1>
      <FormError error={notes.error ?? read.error} />
      {notes.data && notes.data.length === 0 && <p>{t("notifications.none")}</p>}
      {notes.data && notes.data.length > 0 && (
        <>
          <p role="status">{t("notifications.unread_count", { n: unread.length, total: notes.data.length })}</p>
          {unread.length > 1 && (
            <button type="button" className="button button--secondary" disabled={read.isPending}
              onClick={() => read.mutate(unread.map((n) => n.id))}>
              {t("notifications.mark_all")}
            </button>
          )}
          <ul className="plain-list">
            {notes.data.map((n) => (
              <li key={n.id} className={`card note${n.read_at ? "" : " note--unread"}`}>
                <h2>{n.title}</h2>
                <p className="muted">
                  {!n.read_at && <span className="badge badge--unread">{t("notifications.unread")}</span>}{" "}
                  {t("notifications.received", { date: dateTime(n.created_at, lang) })}
                  {n.read_at && ` · ${t("notifications.read_on", { date: dateTime(n.read_at, lang) })}`}
                </p>
                <p>{n.body}</p>
                <div className="actions">
                  {n.link && <Link to={inApp(n.link)}>{t("notifications.open")}</Link>}
                  {!n.read_at && (
                    <button type="button" className="button button--secondary" disabled={read.isPending}
                      onClick={() => read.mutate([n.id])}>
                      {t("notifications.mark_read")}
                      <span className="visually-hidden"> : {n.title}</span>
                    </button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
      <p>
        <Link to="/preferences">{t("notifications.preferences")}</Link>
      </p>
    </div>
  );
}
