// Measures the gzip size of the JavaScript a phone downloads to show a logged-in resident's first screen, the home
// (the entry, its static imports, and the home chunk with its own), and fails over budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET_KB = 160;
const dist = new URL("../dist/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8"));

const files = new Set();
function collect(key) {
  const chunk = manifest[key];
  if (!chunk || files.has(chunk.file)) return;
  files.add(chunk.file);
  for (const dep of chunk.imports ?? []) collect(dep);
}
collect("index.html");
const home = Object.keys(manifest).find((k) => k.endsWith("src/pages/Home.tsx"));
if (!home) {
  console.error("size budget: the home chunk is not in the build manifest");
  process.exit(1);
}
collect(home);

let total = 0;
for (const file of [...files].filter((f) => f.endsWith(".js"))) {
  const gz = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += gz;
  console.log(`  ${file.padEnd(40)} ${(gz / 1024).toFixed(1)} KB gzip`);
}
const kb = total / 1024;
console.log(`resident first load (home): ${kb.toFixed(1)} KB of JavaScript (gzip), budget ${BUDGET_KB} KB`);
if (kb > BUDGET_KB) {
  console.error(`over budget by ${(kb - BUDGET_KB).toFixed(1)} KB`);
  process.exit(1);
}
