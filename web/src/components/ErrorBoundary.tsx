import { Component, type ReactNode } from "react";
import { useI18n } from "../i18n";
import { Link } from "../router";

function Failed({ retry }: { retry: () => void }) {
  const { t } = useI18n();
  return (
    <div className="alert alert--error" role="alert">
      <h1>{t("crash.title")}</h1>
      <p>{t("crash.intro")}</p>
      <div className="actions">
        <button type="button" className="button" onClick={retry}>
          {t("crash.retry")}
        </button>
        <Link className="button button--secondary" to="/">
          {t("nav.dashboard")}
        </Link>
      </div>
    </div>
  );
}

/** A screen that fails to draw shows a message and a way on, instead of leaving the page blank. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  render() {
    return this.state.failed ? <Failed retry={() => this.setState({ failed: false })} /> : this.props.children;
  }
}
