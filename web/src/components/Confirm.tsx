import { useEffect, useRef, useState } from "react";
import { useI18n } from "../i18n";

/** A button that asks once more, in place, before an action that cannot be undone. */
export function ConfirmButton(props: {
  label: string;
  question: string;
  confirm: string;
  onConfirm: () => void;
  busy?: boolean;
  danger?: boolean;
}) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  const cls = props.danger ? "button button--danger" : "button button--secondary";
  if (!asking) {
    return (
      <button type="button" className={cls} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <div className="confirm" role="group" aria-label={props.label}>
      <p>{props.question}</p>
      <button ref={yes} type="button" className={cls} disabled={props.busy} onClick={props.onConfirm}>
        {props.confirm}
      </button>
      <button type="button" className="button button--ghost" onClick={() => setAsking(false)}>
        {t("common.cancel")}
      </button>
    </div>
  );
}
