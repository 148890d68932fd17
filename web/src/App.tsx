import { lazy, Suspense, useEffect, useRef } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Account } from "./api/client";
import { useI18n, type Key } from "./i18n";
import { ForgotPassword, ResetPassword, VerifyEmail } from "./pages/AccountLinks";
import { Login, Signup, TermsReacceptance } from "./pages/Auth";
import Dwelling from "./pages/Dwelling";
import Meters from "./pages/Meters";
import MyData from "./pages/MyData";
import { Link, navigate, useLocation } from "./router";

// The dashboard carries the chart library: it is loaded only where it is shown.
const Dashboard = lazy(() => import("./pages/Dashboard"));

export type Me = { account: Account | null; expired: boolean };

function useMe() {
  return useQuery<Me>({
    queryKey: ["me"],
    staleTime: Infinity,
    retry: false,
    queryFn: async () => {
      try {
        return { account: await unwrap(api.GET("/api/v1/me")), expired: false };
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return { account: null, expired: e.code === "session_expired" };
        throw e;
      }
    },
  });
}

const PAGES: { path: string; key: Key }[] = [
  { path: "/", key: "nav.dashboard" },
  { path: "/meters", key: "nav.meters" },
  { path: "/dwelling", key: "nav.dwelling" },
  { path: "/my-data", key: "nav.data" },
];

function LanguageSwitch() {
  const { t, lang, setLang } = useI18n();
  const other = lang === "fr" ? "en" : "fr";
  return (
    <button type="button" className="lang" lang={other} aria-label={t("lang.switch.label")} onClick={() => setLang(other)}>
      {t("lang.switch")}
    </button>
  );
}

function Header({ account }: { account: Account | null }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const { pathname } = useLocation();
  const logout = async () => {
    await api.POST("/api/v1/auth/logout");
    client.clear();
    client.setQueryData(["me"], { account: null, expired: false });
    navigate("/login");
  };
  return (
    <header className="top">
      <div className="top-inner">
        <Link to="/" className="brand">
          <img src="/icons/icon.svg" alt="" width="32" height="32" />
          <span>{t("app.name")}</span>
        </Link>
        <div className="top-tools">
          <LanguageSwitch />
          {account && (
            <button type="button" className="link-button" onClick={() => void logout()}>
              {t("nav.logout")}
            </button>
          )}
        </div>
      </div>
      {account && !account.terms.acceptance_required && (
        <nav aria-label={t("nav.label")} className="tabs">
          {PAGES.map((p) => (
            <Link key={p.path} to={p.path} aria-current={pathname === p.path ? "page" : undefined}>
              {t(p.key)}
            </Link>
          ))}
        </nav>
      )}
    </header>
  );
}

function Goodbye() {
  const { t } = useI18n();
  return (
    <div className="auth auth--narrow">
      <h1>{t("data.delete")}</h1>
      <div className="alert alert--ok" role="status">
        {t("data.deleted")}
      </div>
      <p>
        <Link to="/signup">{t("login.create")}</Link>
      </p>
    </div>
  );
}

function Page({ me }: { me: Me }) {
  const { pathname } = useLocation();
  const account = me.account;
  useEffect(() => {
    if (account && (pathname === "/login" || pathname === "/signup")) navigate("/", true);
  }, [account, pathname]);
  // Where the e-mailed links land, logged in or not.
  if (pathname === "/verify-email") return <VerifyEmail account={account} />;
  if (pathname === "/reset-password") return <ResetPassword />;
  if (pathname === "/forgot-password") return <ForgotPassword />;
  if (!account) {
    if (pathname === "/signup") return <Signup />;
    if (pathname === "/goodbye") return <Goodbye />;
    return <Login expired={me.expired} />;
  }
  if (account.terms.acceptance_required) return <TermsReacceptance version={account.terms.current_version} />;
  switch (pathname) {
    case "/meters":
      return <Meters account={account} />;
    case "/dwelling":
      return <Dwelling />;
    case "/my-data":
      return <MyData />;
    default:
      return <Dashboard />;
  }
}

export function App() {
  const { t } = useI18n();
  const me = useMe();
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    // After a client-side navigation, a screen reader starts again from the new page's content.
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [pathname]);
  useEffect(() => {
    const page = PAGES.find((p) => p.path === pathname);
    document.title = page && me.data?.account ? `${t(page.key)} · ${t("app.name")}` : t("app.name");
  }, [pathname, me.data, t]);
  return (
    <>
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <Header account={me.data?.account ?? null} />
      <main id="main" ref={main} tabIndex={-1}>
        {me.data ? (
          <Suspense fallback={<p>{t("app.loading")}</p>}>
            <Page me={me.data} />
          </Suspense>
        ) : me.error ? (
          <div className="alert alert--error" role="alert">
            {t("error.network_error")}
          </div>
        ) : (
          <p>{t("app.loading")}</p>
        )}
      </main>
    </>
  );
}
