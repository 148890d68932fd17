import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { en, fr } from "./messages";
/** The keys of every message, those of pages loaded on demand included (messages/index.ts). */
export type Key = keyof typeof fr;

export type Lang = "fr" | "en";
// The same objects messages/index.ts fills as pages load (`addMessages`).
const dictionaries: Record<Lang, Record<string, string>> = { fr, en };

type Translate = (key: Key, vars?: Record<string, string | number>) => string;
const I18n = createContext<{ lang: Lang; t: Translate; setLang: (l: Lang) => void }>(null!);

function initialLang(): Lang {
  const saved = localStorage.getItem("metro.lang");
  return saved === "en" || saved === "fr" ? saved : "fr";
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem("metro.lang", l);
    setLangState(l);
  }, []);
  const t = useCallback<Translate>(
    (key, vars) => {
      let s = dictionaries[lang][key] ?? key;
      for (const [k, v] of Object.entries(vars ?? {})) s = s.replaceAll(`{${k}}`, String(v));
      return s;
    },
    [lang],
  );
  return <I18n.Provider value={{ lang, t, setLang }}>{children}</I18n.Provider>;
}

export const useI18n = () => useContext(I18n);

/** Messages of a page loaded on demand (its own chunk): see messages/index.ts. */
export { addMessages } from "./messages";

/** The translated message for an API error code, or a generic one naming the code. */
export function errorMessage(t: Translate, code: string): string {
  const key = `error.${code}` as Key;
  return key in dictionaries.fr ? t(key) : t("error.generic", { code });
}

/** Whether a dictionary has this key (for values the API may extend, such as freshness states). */
export function known(key: string): key is Key {
  return key in dictionaries.fr;
}
