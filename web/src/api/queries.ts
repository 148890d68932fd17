import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

/** Queries several screens share, under one key each. */
export function useMeters() {
  return useQuery({ queryKey: ["meters"], queryFn: () => unwrap(api.GET("/api/v1/meters")) });
}
