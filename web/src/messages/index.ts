/**
 * Every message of the app, French and English. Each area keeps its own module (`core.ts`, ...) exporting `fr`
 * and `en` with the same keys (the compiler checks it); add a module and spread it on both lines below.
 * `admin.ts` (the administration console) is not spread here: it loads with the console (i18n.addMessages).
 */
import * as address from "./address";
import * as console from "./console";
import * as core from "./core";

export const fr = {
  ...core.fr,
  ...address.fr,
  ...console.fr,
};

export const en: Record<keyof typeof fr, string> = {
  ...core.en,
  ...address.en,
  ...console.en,
};
