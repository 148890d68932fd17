import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { en, fr } from "./messages";
import type * as accountScreens from "./messages/accountScreens";

/** The keys of every message, those of dictionaries loaded with their screens included (`addMessages`). */
export type Key = keyof typeof fr | keyof typeof accountScreens.fr;

export type Lang = "fr" | "en";
const dictionaries: Record<Lang, Record<string, string>> = { fr: { ...fr }, en: { ...en } };

/** Adds the messages of screens loaded lazily; their module calls it when it loads. */
export function addMessages(messages: { fr: Record<string, string>; en: Record<string, string> }) {
  Object.assign(dictionaries.fr, messages.fr);
  Object.assign(dictionaries.en, messages.en);
}

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

/** The translated message for an API error code, or a generic one naming the code. */
export function errorMessage(t: Translate, code: string): string {
  const key = `error.${code}` as Key;
  return key in dictionaries.fr ? t(key) : t("error.generic", { code });
}

/** Whether a dictionary has this key (for values the API may extend, such as freshness states). */
export function known(key: string): key is Key {
  return key in dictionaries.fr;
}
