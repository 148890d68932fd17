/**
 * Every message of the app, French and English. `core` (sign-in, dashboard, meters, dwelling, my data, errors and
 * every menu label) is in the first load; each other area keeps its own module exporting `fr` and `en` with the
 * same keys (the compiler checks it), loaded with the page that uses it: that page calls `addMessages(module)`
 * when it is imported. The types know every key; a key of a page not loaded yet shows as itself.
 */
import * as coach from "./coach";
import * as consoleNav from "./console";
import * as account from "./account";
import * as core from "./core";
import type * as accountScreens from "./accountScreens";
import type * as actions from "./actions";
import type * as address from "./address";
import type * as local from "./local";
import type * as adviser from "./adviser";
import type * as loadcurve from "./loadcurve";
import type * as admin from "./admin";
import type * as orgs from "./orgs";
import type * as landlord from "./landlord";
import type * as statements from "./statements";

type All = typeof core.fr & typeof coach.fr & typeof address.fr & typeof consoleNav.fr & typeof local.fr & typeof account.fr
  & typeof adviser.fr & typeof orgs.fr & typeof landlord.fr & typeof statements.fr & typeof actions.fr & typeof admin.fr
  & typeof loadcurve.fr & typeof accountScreens.fr;

export const fr = { ...core.fr, ...coach.fr, ...consoleNav.fr, ...account.fr } as All;
export const en = { ...core.en, ...coach.en, ...consoleNav.en, ...account.en } as Record<keyof All, string>;

/** A page's own messages, added to both languages when the page's chunk loads. */
export function addMessages(area: { fr: Partial<All>; en: Partial<Record<keyof All, string>> }): void {
  Object.assign(fr, area.fr);
  Object.assign(en, area.en);
}
