/**
 * Every message of the app, French and English. Each area keeps its own module (`core.ts`, ...) exporting `fr`
 * and `en` with the same keys (the compiler checks it); add a module and spread it on both lines below.
 */
import * as actions from "./actions";
import * as core from "./core";
import * as statements from "./statements";

export const fr = {
  ...core.fr,
  ...statements.fr,
  ...actions.fr,
};

export const en: Record<keyof typeof fr, string> = {
  ...core.en,
  ...statements.en,
  ...actions.en,
};
