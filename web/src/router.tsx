import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

function subscribe(onChange: () => void) {
  addEventListener("popstate", onChange);
  return () => removeEventListener("popstate", onChange);
}

export function useLocation(): URL {
  const href = useSyncExternalStore(subscribe, () => location.href);
  return new URL(href);
}

export function navigate(to: string, replace = false) {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  dispatchEvent(new PopStateEvent("popstate"));
  window.scrollTo(0, 0);
}

/** Changes the query string as a new history entry (so that back returns to the previous choice), without
 * scrolling: a dashboard's choices live in its address, and a reload or the back button keeps them. */
export function setSearch(changes: Record<string, string | null>) {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries(changes)) {
    if (v == null) url.searchParams.delete(k);
    else url.searchParams.set(k, v);
  }
  history.pushState(null, "", url.pathname + url.search + url.hash);
  dispatchEvent(new PopStateEvent("popstate"));
}

export function Link({ to, children, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
