import type { ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import { addMessages, errorMessage, known, useI18n, type Key } from "../../i18n";
import * as messages from "../../messages/admin";

addMessages(messages);

export type AdminKey = keyof typeof messages.fr | Key;

/** useI18n with the console's own messages as keys too. */
export function useAdminI18n() {
  const i18n = useI18n();
  return { ...i18n, t: (key: AdminKey, vars?: Record<string, string | number>) => i18n.t(key as Key, vars) };
}

/** A loading, failed or empty state for a console list, or the list itself. */
export function Loaded<T>({ query, empty, children }: {
  query: { data?: T[]; isPending: boolean; error: unknown };
  empty: string;
  children: (rows: T[]) => ReactNode;
}) {
  const { t } = useI18n();
  if (query.isPending) return <p>{t("app.loading")}</p>;
  if (query.error) {
    const code = query.error instanceof ApiError ? query.error.code : "network_error";
    return (
      <div className="alert alert--error" role="alert">
        {errorMessage(t, code)}
      </div>
    );
  }
  if (!query.data?.length) return <p className="muted">{empty}</p>;
  return <>{children(query.data)}</>;
}

/** A console screen that lists what awaits the administrator, one item each. */
export function ListSection<T>({ id, title, intro, query, empty, item, children }: {
  id: string;
  title: string;
  intro?: string;
  query: { data?: T[]; isPending: boolean; error: unknown };
  empty: string;
  item: (row: T) => ReactNode;
  children?: ReactNode;
}) {
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {intro && <p className="lead">{intro}</p>}
      <Loaded query={query} empty={empty}>
        {(rows) => <ul className="admin-list">{rows.map(item)}</ul>}
      </Loaded>
      {children}
    </section>
  );
}

/** A status value translated where the dictionary knows it (`admin.status.<value>`), else shown as is. */
export function useStatus() {
  const { t } = useAdminI18n();
  return (value: string | null | undefined) => {
    if (!value) return "—";
    const key = `admin.status.${value}`;
    return known(key) ? t(key) : value;
  };
}

/** Everything under ["admin", ...] is read again after an action. */
export function useRefresh() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: ["admin"] });
}

export function Done({ children }: { children: ReactNode }) {
  return (
    <div className="alert alert--ok" role="status">
      {children}
    </div>
  );
}

/** A request body sent as is (a CSV or gzip file), not as JSON. */
export const raw = { bodySerializer: (body: unknown) => body as BodyInit };

export { ScrollRegion } from "../../components/ScrollRegion";
