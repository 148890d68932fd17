import { useEffect, useId, useState, type KeyboardEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { useI18n } from "../i18n";
import * as addressMessages from "../messages/address";
import { addMessages } from "../messages";

addMessages(addressMessages);

export type AddressSuggestion = Schemas["AddressSuggestion"];

const MIN_LENGTH = 3;
const DELAY_MS = 250;

/** What was typed, once the typing pauses: one request per pause, not per key. */
function useSettled(value: string): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), DELAY_MS);
    return () => clearTimeout(timer);
  }, [value]);
  return settled;
}

/**
 * Address autocomplete from the address base (WAI-ARIA combobox with a listbox): the resident types part of
 * the address, picks a suggestion with the mouse or the arrow keys and Enter, and `onSelect` receives its
 * street, postal code, municipality and INSEE code. Typing the address by hand stays possible.
 */
export function AddressSearch({ onSelect }: { onSelect: (address: AddressSuggestion) => void }) {
  const { t } = useI18n();
  const id = useId();
  const [text, setText] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const query = useSettled(text.trim());
  const enough = query.replace(/[^\p{L}\p{N}]/gu, "").length >= MIN_LENGTH;
  const found = useQuery({
    queryKey: ["addresses", query],
    enabled: enough,
    staleTime: 60_000,
    queryFn: () => unwrap(api.GET("/api/v1/addresses", { params: { query: { q: query } } })),
  });
  const options = enough ? (found.data ?? []) : [];
  const expanded = open && options.length > 0;
  useEffect(() => setActive(-1), [query]);

  const choose = (address: AddressSuggestion) => {
    onSelect(address);
    setText(address.label);
    setOpen(false);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown" && options.length) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a + 1) % options.length);
    } else if (e.key === "ArrowUp" && options.length) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a <= 0 ? options.length - 1 : a - 1));
    } else if (e.key === "Enter" && expanded && active >= 0) {
      e.preventDefault();
      choose(options[active]);
    } else if (e.key === "Escape") {
      setOpen(false);
    }
  };
  let status = "";
  if (enough && found.isSuccess) status = options.length ? t("address.found", { n: options.length }) : t("address.none");
  if (found.isError) status = t("address.unavailable");

  return (
    <div className="field address-search">
      <label htmlFor={`${id}-input`}>{t("address.search")}</label>
      <p className="hint" id={`${id}-hint`}>
        {t("address.search.hint")}
      </p>
      <input id={`${id}-input`} type="text" role="combobox" autoComplete="off" value={text}
        aria-autocomplete="list" aria-expanded={expanded} aria-controls={`${id}-list`}
        aria-describedby={`${id}-hint ${id}-status`}
        aria-activedescendant={expanded && active >= 0 ? `${id}-option-${active}` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
        }}
        onKeyDown={onKeyDown} onBlur={() => setTimeout(() => setOpen(false), 150)} />
      {/* The WAI-ARIA combobox pattern: the keyboard stays on the input (aria-activedescendant); a click picks. */}
      {/* eslint-disable-next-line jsx-a11y/no-noninteractive-element-to-interactive-role */}
      <ul id={`${id}-list`} role="listbox" aria-label={t("address.suggestions")} className="address-options"
        hidden={!expanded}>
        {options.map((a, i) => (
          // eslint-disable-next-line jsx-a11y/no-noninteractive-element-to-interactive-role, jsx-a11y/click-events-have-key-events
          <li key={a.id} id={`${id}-option-${i}`} role="option" aria-selected={i === active}
            className={i === active ? "address-option address-option--active" : "address-option"}
            onMouseDown={(e) => e.preventDefault()} onClick={() => choose(a)}>
            <span>{a.street}</span> <span className="muted">
              {a.postal_code} {a.municipality}
            </span>
          </li>
        ))}
      </ul>
      <p id={`${id}-status`} className="visually-hidden" role="status" aria-live="polite">
        {status}
      </p>
    </div>
  );
}
