import type { ReactNode } from "react";
import { Link, useLocation } from "../router";
import { Accounts } from "./admin/Accounts";
import { useAdminI18n, type AdminKey } from "./admin/common";
import { Audit } from "./admin/Audit";
import { AddressBase, Catalogues } from "./admin/Catalogues";
import { Collections, SgeSubscriptions } from "./admin/Collections";
import { Erasures, Mismatches } from "./admin/Reviews";
import { TermsVersions } from "./admin/Terms";

/** The administration console's screens, each under /admin/<section>. */
export const SECTIONS: { path: string; key: AdminKey; render: () => ReactNode }[] = [
  { path: "/admin", key: "admin.accounts", render: () => <Accounts /> },
  { path: "/admin/erasures", key: "admin.erasures", render: () => <Erasures /> },
  { path: "/admin/mismatches", key: "admin.mismatches", render: () => <Mismatches /> },
  { path: "/admin/catalogues", key: "admin.catalogues", render: () => <Catalogues /> },
  { path: "/admin/terms", key: "admin.terms", render: () => <TermsVersions /> },
  { path: "/admin/collections", key: "admin.collections", render: () => <Collections /> },
  { path: "/admin/sge", key: "admin.sge", render: () => <SgeSubscriptions /> },
  { path: "/admin/address-base", key: "admin.address_base", render: () => <AddressBase /> },
  { path: "/admin/audit", key: "admin.audit", render: () => <Audit /> },
];

export function sectionOf(pathname: string) {
  return SECTIONS.find((s) => s.path === pathname) ?? SECTIONS[0];
}

export default function Admin() {
  const { t } = useAdminI18n();
  const { pathname } = useLocation();
  const section = sectionOf(pathname);
  return (
    <div>
      <h1>
        {t("admin.title")} · {t(section.key)}
      </h1>
      <nav aria-label={t("admin.nav")}>
        <ul className="admin-nav">
          {SECTIONS.map((s) => (
            <li key={s.path}>
              <Link to={s.path} aria-current={s.path === section.path ? "page" : undefined}>
                {t(s.key)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {section.render()}
    </div>
  );
}
