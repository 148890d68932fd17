import type { Key } from "../i18n";

/** The footer's pages (their bodies load with the page itself). */
export const INFO_PAGES: Record<string, { link: Key; title: Key }> = {
  "/accessibility": { link: "footer.accessibility", title: "info.accessibility.title" },
  "/legal": { link: "footer.legal", title: "info.legal.title" },
  "/contact": { link: "footer.contact", title: "info.contact.title" },
};
