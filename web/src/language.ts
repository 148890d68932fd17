import { useEffect } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Account } from "./api/client";
import type { Me } from "./App";
import { useI18n, type Lang } from "./i18n";

/** The account's language: the switch changes it when signed in, so that e-mails follow; signing in adopts it. */
export function useAccountLanguage(account: Account | null) {
  const { setLang } = useI18n();
  const client = useQueryClient();
  const saved = account?.language;
  useEffect(() => {
    if (saved === "fr" || saved === "en") setLang(saved);
  }, [saved, setLang]);
  return async (lang: Lang) => {
    setLang(lang);
    if (!account) return;
    const updated = await unwrap(api.PUT("/api/v1/me/language", { body: { language: lang } }));
    client.setQueryData<Me>(["me"], { account: updated, expired: false });
  };
}
