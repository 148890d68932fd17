import { lazy, Suspense, useEffect, useRef } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap, type Account } from "./api/client";
import { useTenancies } from "./api/queries";
import { useI18n, type Key } from "./i18n";
import { useAccountLanguage } from "./language";
import { forgetPersonalData, useStaleFigures } from "./offline";
import { dateTime } from "./format";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Login, Signup, TermsReacceptance } from "./pages/Auth";
import { INFO_PAGES } from "./pages/infoPages";
import { Link, navigate, useLocation } from "./router";

// Each screen is loaded where it is shown, so that a resident's first load carries only the home (and the chart
// library it draws with).
const Home = lazy(() => import("./pages/Home"));
const Dashboard = lazy(() => import("./pages/Dashboard"));
const Dwelling = lazy(() => import("./pages/Dwelling"));
const Meters = lazy(() => import("./pages/Meters"));
const MyData = lazy(() => import("./pages/MyData"));
const InfoPage = lazy(() => import("./pages/Info"));
const VerifyEmail = lazy(() => import("./pages/AccountLinks").then((m) => ({ default: m.VerifyEmail })));
const ResetPassword = lazy(() => import("./pages/AccountLinks").then((m) => ({ default: m.ResetPassword })));
const ForgotPassword = lazy(() => import("./pages/AccountLinks").then((m) => ({ default: m.ForgotPassword })));
// Pages few residents open are loaded when opened.
const Statements = lazy(() => import("./pages/Statements"));
const Actions = lazy(() => import("./pages/Actions"));
// The administration console, for administrators only.
const Admin = lazy(() => import("./pages/Admin"));
const Workspace = lazy(() => import("./pages/AdviserWorkspace"));
// Organisations' buildings and the analysts' territory: loaded for those who open them.
const Organisations = lazy(() => import("./pages/Organisations"));
const Analyst = lazy(() => import("./pages/Analyst"));
const BuildingPage = lazy(() => import("./pages/Building"));
// A tenant's statements of the dwelling their landlord linked them to.
const Tenancy = lazy(() => import("./pages/Tenancy"));
const BUILDING_PAGE = /^\/orgs\/([0-9a-f-]{36})\/buildings\/([0-9a-f-]{36})$/;

const RESIDENT_ID = /^\/adviser\/residents\/([0-9a-f-]{36})$/;
/** An adviser without the resident role has no home of their own: they land in the workspace. */
const residentPages = (a: Account) => a.roles.includes("resident") || !a.roles.includes("adviser");

/** The pages a role adds to the menu: the adviser's workspace, the news editor, an organisation's buildings, the
 * Métropole's aggregates, the administration console. */
function rolePages(account: Account | null | undefined): { path: string; key: Key; also?: string[] }[] {
  const roles = account?.roles ?? [];
  return [
    ...(roles.includes("adviser") ? [{ path: "/adviser", key: "nav.adviser" as Key }] : []),
    ...(roles.includes("adviser") || roles.includes("admin") ? [{ path: "/news/editor", key: "nav.news_editor" as Key }] : []),
    ...(roles.includes("professional") ? [{ path: "/orgs", key: "nav.orgs" as Key }] : []),
    ...(roles.includes("analyst") ? [{ path: "/analyst", key: "nav.analyst" as Key }] : []),
    ...(roles.includes("admin") ? [{ path: "/admin", key: "nav.admin" as Key }] : []),
  ];
}
// The load curve has its own chunk (its line chart included): only those who open it download it.
const LoadCurve = lazy(() => import("./pages/LoadCurve"));
// The account screens.
const AccountPage = lazy(() => import("./pages/Account"));
const Notifications = lazy(() => import("./pages/Notifications"));
const Preferences = lazy(() => import("./pages/Preferences"));
const Contract = lazy(() => import("./pages/MeterRecords").then((m) => ({ default: m.Contract })));
const Consents = lazy(() => import("./pages/MeterRecords").then((m) => ({ default: m.Consents })));
const METER_PAGE = /^\/meters\/([0-9a-f-]{36})\/(contract|consents)$/;

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

const PAGES: { path: string; key: Key; also?: string[] }[] = [
  { path: "/", key: "nav.dashboard", also: ["/consumption"] },
  { path: "/meters", key: "nav.meters" },
  { path: "/statements", key: "nav.statements" },
  { path: "/actions", key: "nav.actions" },
  { path: "/dwelling", key: "nav.dwelling" },
  { path: "/my-data", key: "nav.data" },
  { path: "/account", key: "nav.account" },
];
const ACCOUNT_PAGES: Record<string, Key> = { "/account": "account.title", "/notifications": "notifications.title",
                                             "/preferences": "preferences.title" };

function LanguageSwitch({ account }: { account: Account | null }) {
  const { t, lang } = useI18n();
  const setLang = useAccountLanguage(account);
  const other = lang === "fr" ? "en" : "fr";
  return (
    <button type="button" className="lang" lang={other} aria-label={t("lang.switch.label")}
      onClick={() => void setLang(other).catch(() => undefined)}>
      {t("lang.switch")}
    </button>
  );
}

function Header({ account }: { account: Account | null }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const { pathname } = useLocation();
  // A tenant's statements get a tab once their landlord's code linked them to a dwelling.
  const tenancies = useTenancies(Boolean(account && !account.terms.acceptance_required));
  const tenant: typeof PAGES = (tenancies.data?.length ?? 0) > 0 ? [{ path: "/tenancy", key: "nav.tenancy" }] : [];
  const logout = async () => {
    await api.POST("/api/v1/auth/logout");
    forgetPersonalData(client);
    client.setQueryData<Me>(["me"], { account: null, expired: false });
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
          <LanguageSwitch account={account} />
          {account && (
            <button type="button" className="link-button" onClick={() => void logout()}>
              {t("nav.logout")}
            </button>
          )}
        </div>
      </div>
      {account && !account.terms.acceptance_required && (
        <nav aria-label={t("nav.label")} className="tabs">
          {[...(residentPages(account) ? PAGES : PAGES.filter((p) => p.path === "/actions" || p.path === "/my-data")),
            ...tenant, ...rolePages(account)].map((p) => (
            <Link key={p.path} to={p.path}
              aria-current={current(pathname) === p.path || p.also?.includes(pathname)
                || (p.path !== "/" && pathname.startsWith(`${p.path}/`)) ? "page" : undefined}>
              {t(p.key)}
            </Link>
          ))}
        </nav>
      )}
    </header>
  );
}

function NotFound() {
  const { t } = useI18n();
  return (
    <div className="auth auth--narrow">
      <h1>{t("notfound.title")}</h1>
      <p>{t("notfound.body")}</p>
      <p>
        <Link className="button" to="/">
          {t("notfound.home")}
        </Link>
      </p>
    </div>
  );
}

/** The tab a page belongs to. */
function current(pathname: string): string {
  if (pathname in ACCOUNT_PAGES) return "/account";
  return METER_PAGE.test(pathname) ? "/meters" : pathname;
}

function StaleFigures() {
  const { t, lang } = useI18n();
  const stale = useStaleFigures(useQueryClient());
  if (!stale) return null;
  return (
    <div className="alert alert--info stale" role="status">
      {t(stale.reason === "offline" ? "offline.notice" : "offline.unreachable",
        { date: dateTime(new Date(stale.since).toISOString(), lang) })}
    </div>
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

function Footer() {
  const { t } = useI18n();
  return (
    <footer className="site-footer">
      <ul>
        {Object.entries(INFO_PAGES).map(([path, page]) => (
          <li key={path}>
            <Link to={path}>{t(page.link)}</Link>
          </li>
        ))}
      </ul>
    </footer>
  );
}

/** What the page is about, for the document title: each screen has its own. */
function titleOf(pathname: string, me: Me | undefined): Key {
  if (pathname in INFO_PAGES) return INFO_PAGES[pathname].title;
  const links: Record<string, Key> = { "/verify-email": "verify.title", "/reset-password": "reset.title",
                                       "/forgot-password": "forgot.title" };
  if (pathname in links) return links[pathname];
  const account = me?.account;
  if (!account) return pathname === "/signup" ? "signup.title" : pathname === "/goodbye" ? "data.delete" : "login.title";
  if (account.terms.acceptance_required) return "terms.changed.title";
  if (pathname in ACCOUNT_PAGES) return ACCOUNT_PAGES[pathname];
  const meterPage = METER_PAGE.exec(pathname);
  if (meterPage) return meterPage[2] === "contract" ? "contract.title" : "consents.title";
  if (pathname === "/consumption") return "detail.title";
  if (pathname === "/load-curve") return "curve.title";
  if (RESIDENT_ID.test(pathname) || pathname === "/adviser") return "nav.adviser";
  if (pathname === "/news/editor") return "nav.news_editor";
  if (pathname.startsWith("/orgs")) return "nav.orgs";
  if (pathname === "/tenancy") return "nav.tenancy";
  if (pathname === "/analyst") return "nav.analyst";
  if (account.roles.includes("admin") && pathname.startsWith("/admin")) return "nav.admin";
  return PAGES.find((p) => p.path === pathname)?.key ?? "notfound.title";
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
  if (pathname in INFO_PAGES) return <InfoPage path={pathname} />;
  if (!account) {
    if (pathname === "/signup") return <Signup />;
    if (pathname === "/goodbye") return <Goodbye />;
    return <Login expired={me.expired} />;
  }
  if (account.terms.acceptance_required) return <TermsReacceptance version={account.terms.current_version} />;
  const meterPage = METER_PAGE.exec(pathname);
  if (meterPage) return meterPage[2] === "contract" ? <Contract meterId={meterPage[1]} /> : <Consents meterId={meterPage[1]} />;
  const building = BUILDING_PAGE.exec(pathname);
  if (building) return <BuildingPage orgId={building[1]} buildingId={building[2]} />;
  if (pathname === "/orgs" || pathname.startsWith("/orgs/")) {
    return <Organisations path={pathname} professional={account.roles.includes("professional")} />;
  }
  if (pathname === "/analyst" && account.roles.includes("analyst")) return <Analyst />;
  if (account.roles.includes("admin") && (pathname === "/admin" || pathname.startsWith("/admin/"))) return <Admin />;
  const shared = RESIDENT_ID.exec(pathname);
  if (shared && account.roles.includes("adviser")) return <Workspace view="resident" residentId={shared[1]} />;
  switch (pathname) {
    case "/adviser":
      return account.roles.includes("adviser") ? <Workspace view="residents" /> : <Dashboard />;
    case "/news/editor":
      return account.roles.includes("adviser") || account.roles.includes("admin") ? <Workspace view="news" /> : <Dashboard />;
    case "/account":
      return <AccountPage account={account} />;
    case "/notifications":
      return <Notifications />;
    case "/preferences":
      return <Preferences />;
    case "/meters":
      return <Meters account={account} />;
    case "/statements":
      return <Statements />;
    case "/actions":
      return <Actions account={account} />;
    case "/dwelling":
      return <Dwelling />;
    case "/my-data":
      return <MyData />;
    case "/tenancy":
      return <Tenancy />;
    case "/load-curve":
      return <LoadCurve />;
    case "/consumption":
      return <Dashboard />;
    case "/":
      return residentPages(account) ? <Home /> : <Workspace view="residents" />;
    default:
      return <NotFound />;
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
    document.title = `${t(titleOf(pathname, me.data))} · ${t("app.name")}`;
  }, [pathname, me.data, t]);
  const tabs = Boolean(me.data?.account && !me.data.account.terms.acceptance_required);
  return (
    <div className={tabs ? "app app--tabs" : "app"}>
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <Header account={me.data?.account ?? null} />
      <main id="main" ref={main} tabIndex={-1}>
        {me.data?.account && <StaleFigures />}
        {me.data ? (
          <ErrorBoundary key={pathname}>
            <Suspense fallback={<p>{t("app.loading")}</p>}>
              <Page me={me.data} />
            </Suspense>
          </ErrorBoundary>
        ) : me.error ? (
          <div className="alert alert--error" role="alert">
            {t("error.network_error")}
          </div>
        ) : (
          <p>{t("app.loading")}</p>
        )}
      </main>
      <Footer />
    </div>
  );
}
