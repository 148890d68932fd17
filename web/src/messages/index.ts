/**
 * Every message of the app, French and English. Each area keeps its own module (`core.ts`, ...) exporting `fr`
 * and `en` with the same keys (the compiler checks it); add a module and spread it on both lines below.
 */
import * as account from "./account";
import * as core from "./core";

export const fr = {
  ...core.fr,
  ...account.fr,
};

export const en: Record<keyof typeof fr, string> = {
  ...core.en,
  ...account.en,
};
