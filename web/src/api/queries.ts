import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

/** Queries several screens share, under one key each. */
/** The dwellings the account rents from a landlord of the platform (their statements have a tab of their own). */
export function useTenancies(enabled = true) {
  return useQuery({ queryKey: ["tenancies"], enabled, queryFn: () => unwrap(api.GET("/api/v1/me/tenancies")) });
}

export function useMeters() {
  return useQuery({ queryKey: ["meters"], queryFn: () => unwrap(api.GET("/api/v1/meters")) });
}
