// Builds the dashboard into ../internal/web/dist (embedded by the Go
// binary). The output must be byte-identical for the same sources and
// lockfile: CI rebuilds and fails on any difference. So: no timestamps,
// no content hashes in names, no source maps with absolute paths, and
// the directory is emptied first so no stale file survives.
//
//   node build.mjs          build
//   node build.mjs --watch  rebuild on change (development)

import * as esbuild from "esbuild";
import { copyFile, mkdir, readFile, readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "internal", "web", "dist");
const watch = process.argv.includes("--watch");

await mkdir(out, { recursive: true });
for (const f of await readdir(out)) await rm(join(out, f), { recursive: true, force: true });

// uPlot's notice is a plain comment that minifying drops: keep it by hand.
const uplot = JSON.parse(await readFile(join(here, "node_modules", "uplot", "package.json"), "utf8"));
const banner = `/*! uPlot ${uplot.version} (c) Leon Sorokin, MIT License: see uplot-LICENSE.txt */`;

const common = {
  bundle: true,
  minify: true,
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  legalComments: "eof",
  charset: "utf8",
  logLevel: "info",
  absWorkingDir: here,
};

const contexts = [
  await esbuild.context({ ...common, entryPoints: ["src/main.ts"], outfile: join(out, "app.js"), format: "iife", banner: { js: banner } }),
  await esbuild.context({ ...common, entryPoints: ["src/styles/app.css"], outfile: join(out, "app.css") }),
];

await copyFile(join(here, "src", "index.html"), join(out, "index.html"));
await copyFile(join(here, "src", "favicon.svg"), join(out, "favicon.svg"));
await copyFile(join(here, "node_modules", "uplot", "LICENSE"), join(out, "uplot-LICENSE.txt"));

if (watch) {
  for (const c of contexts) await c.watch();
  console.log("watching src/ (index.html is copied at start only)");
} else {
  for (const c of contexts) {
    await c.rebuild();
    await c.dispose();
  }
}
