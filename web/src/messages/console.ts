/** The links to the role consoles (shown to accounts with that role), French first. */
export const fr = {
  "nav.admin": "Administration",
};

export const en: Record<keyof typeof fr, string> = {
  "nav.admin": "Administration",
};
