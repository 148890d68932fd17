import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The gateway serves dist/ and the API on one origin; in development, Vite forwards /api to it.
export default defineConfig({
  plugins: [react()],
  build: { manifest: true, target: "es2022", sourcemap: false },
  server: { proxy: { "/api": process.env.METRO_GATEWAY ?? "http://127.0.0.1:8000" } },
});
