import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Component tests (src/**/*.test.tsx) in jsdom; `make test` runs them with `npm run test:unit`.
export default defineConfig({
  plugins: [react()],
  test: { environment: "jsdom", include: ["src/**/*.test.tsx"] },
});
