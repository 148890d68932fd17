import { useSyncExternalStore } from "react";
import { onlineManager, type QueryClient } from "@tanstack/react-query";
import { createSyncStoragePersister } from "@tanstack/query-sync-storage-persister";
import { ApiError } from "./api/client";

/**
 * The API answers last seen are kept in this browser (TanStack Query's persister, localStorage), so that the
 * figures stay readable offline. They are personal: logging out clears them.
 */
const CACHE_KEY = "metro.cache";

export const persistOptions = {
  persister: createSyncStoragePersister({ storage: window.localStorage, key: CACHE_KEY, throttleTime: 500 }),
  maxAge: 7 * 24 * 3600 * 1000,
  buster: "1",
};

// TanStack Query assumes a network at start; a phone opening the app offline is not.
onlineManager.setOnline(navigator.onLine);

/** Forgets every cached answer, in memory and in this browser, but the ["me"] the caller sets next. */
export function forgetPersonalData(client: QueryClient) {
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
  window.localStorage.removeItem(CACHE_KEY);
}

/**
 * When the figures on screen are older than the network could give: offline, or the server unreachable. Returns
 * what to say and the time of the oldest answer shown, or null.
 */
export function useStaleFigures(client: QueryClient): { reason: "offline" | "unreachable"; since: number } | null {
  const snapshot = useSyncExternalStore(
    (notify) => {
      const a = onlineManager.subscribe(notify);
      const b = client.getQueryCache().subscribe(notify);
      return () => {
        a();
        b();
      };
    },
    () => {
      const shown = client.getQueryCache().getAll()
        .filter((q) => q.queryKey[0] !== "me" && q.getObserversCount() > 0 && q.state.data !== undefined);
      if (shown.length === 0) return "";
      const since = Math.min(...shown.map((q) => q.state.dataUpdatedAt));
      if (!onlineManager.isOnline()) return `offline:${since}`;
      const unreachable = shown.some((q) => q.state.error instanceof ApiError && q.state.error.code === "network_error");
      return unreachable ? `unreachable:${since}` : "";
    },
  );
  if (!snapshot) return null;
  const [reason, since] = snapshot.split(":");
  return { reason: reason as "offline" | "unreachable", since: Number(since) };
}
