/**
 * Every message of the app, French and English. Each area keeps its own module (`core.ts`, ...) exporting `fr`
 * and `en` with the same keys (the compiler checks it); add a module and spread it on both lines below.
 */
import * as core from "./core";
import * as loadcurve from "./loadcurve";

export const fr = {
  ...core.fr,
  ...loadcurve.fr,
};

export const en: Record<keyof typeof fr, string> = {
  ...core.en,
  ...loadcurve.en,
};
