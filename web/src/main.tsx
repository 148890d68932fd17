import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryCache, QueryClient } from "@tanstack/react-query";
import { PersistQueryClientProvider } from "@tanstack/react-query-persist-client";
import { ApiError } from "./api/client";
import { App, type Me } from "./App";
import { I18nProvider } from "./i18n";
import { persistOptions } from "./offline";
import "./styles.css";

const queries: QueryClient = new QueryClient({
  // A session that ended while reading shows the sign-in form in place: signing in returns to the same page.
  queryCache: new QueryCache({
    onError: (error, query) => {
      if (error instanceof ApiError && error.status === 401 && query.queryKey[0] !== "me") {
        queries.setQueryData<Me>(["me"], { account: null, expired: error.code === "session_expired" });
      }
    },
  }),
  defaultOptions: {
    queries: {
      refetchOnWindowFocus: false,
      staleTime: 30_000,
      retry: (count, error) => count < 1 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <I18nProvider>
      {/* What was restored is shown at once, then asked again (once the network is there). */}
      <PersistQueryClientProvider client={queries} persistOptions={persistOptions}
        onSuccess={() => void queries.invalidateQueries()}>
        <App />
      </PersistQueryClientProvider>
    </I18nProvider>
  </StrictMode>,
);

if ("serviceWorker" in navigator && import.meta.env.PROD) {
  addEventListener("load", () => void navigator.serviceWorker.register("/sw.js"));
}
