import { useI18n } from "../i18n";

export type FieldErrors = Record<string, string | undefined>;

/**
 * The errors of a refused form, listed above it with a link to each field (the field itself gets the focus,
 * see useFocusFirstError). `labels` names each field as its label does.
 */
export function ErrorSummary({ errors, labels, idPrefix }: { errors: FieldErrors; labels: Record<string, string>;
                                                             idPrefix: string }) {
  const { t } = useI18n();
  const listed = Object.entries(errors).filter(([, message]) => message);
  if (listed.length === 0) return null;
  return (
    <div className="alert alert--error error-summary" role="alert">
      <p>{t("form.errors_title", { n: listed.length })}</p>
      <ul>
        {listed.map(([field, message]) => (
          <li key={field}>
            <a href={`#${idPrefix}-${field}`} onClick={(e) => {
              e.preventDefault();
              document.getElementById(`${idPrefix}-${field}`)?.focus();
            }}>
              {labels[field] ?? field} : {message}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}
