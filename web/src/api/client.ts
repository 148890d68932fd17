import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Account = Schemas["Account"];
export type Terms = Schemas["Terms"];
export type MeterView = Schemas["MeterView"];
export type Dwelling = Schemas["Dwelling"];
export type ConsumptionSeries = Schemas["ConsumptionSeries"];
export type Step = Schemas["Step"];

/** An API refusal: the stable code maps to a translated message; `field` says which input it is about. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    public detail: string,
  ) {
    super(detail || code);
  }
  /** The form field the error is about, from the code or the validation detail ("email: …"). */
  get field(): string | undefined {
    const byCode: Record<string, string> = {
      weak_password: "password",
      email_taken: "email",
      invalid_credentials: "password",
      invalid_identifier: "identifier",
      meter_already_claimed: "identifier",
      meter_already_declared: "identifier",
      invitation_not_found: "code",
    };
    if (byCode[this.code]) return byCode[this.code];
    const m = /^([\w.]+): /.exec(this.detail ?? "");
    return m ? m[1].split(".").pop() : undefined;
  }
}

/** `__Host-metro_csrf` when served over HTTPS, `metro_csrf` in local mode. */
function csrfToken(): string | undefined {
  const cookie = document.cookie
    .split("; ")
    .find((c) => c.startsWith("__Host-metro_csrf=") || c.startsWith("metro_csrf="));
  return cookie?.slice(cookie.indexOf("=") + 1);
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (!["GET", "HEAD", "OPTIONS"].includes(request.method)) {
      const token = csrfToken();
      if (token) request.headers.set("X-CSRF-Token", decodeURIComponent(token));
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(csrf);

type Result<T> = { data?: T; error?: unknown; response: Response };

/** Unwraps an openapi-fetch answer: the data, or an ApiError carrying the API's stable code. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch {
    throw new ApiError(0, "network_error", "");
  }
  if (result.response.ok) return result.data as T;
  const body = (result.error ?? {}) as { error?: string; detail?: unknown };
  const detail = typeof body.detail === "string" ? body.detail : "";
  throw new ApiError(result.response.status, body.error ?? `http_${result.response.status}`, detail);
}

// Every query and mutation goes through `unwrap`: their errors are ApiErrors, typed so (TanStack Query's Register).
declare module "@tanstack/react-query" {
  interface Register {
    defaultError: ApiError;
  }
}
