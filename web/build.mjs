// Builds the dashboard into ../internal/web/dist (embedded by the Go
// binary). The output must be byte-identical for the same sources and
// lockfile: CI rebuilds and fails on any difference. So: no timestamps,
// no content hashes in names, no source maps with absolute paths, and
// the directory is emptied first so no stale file survives.
//
//   node build.mjs          build
//   node build.mjs --watch  rebuild on change (development)

import * as esbuild from "esbuild";
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "internal", "web", "dist");
const watch = process.argv.includes("--watch");

await mkdir(out, { recursive: true });
for (const f of await readdir(out)) await rm(join(out, f), { recursive: true, force: true });

// The bundled packages' notices are plain comments that minifying drops:
// LICENSES.txt carries them (written from the bundle's inputs, below), and
// the banner points there.
const banner = "/*! PingerPlot dashboard. Bundled: uPlot (MIT), d3-geo, d3-array, topojson-client, world-atlas " +
  "(ISC) with Natural Earth map data (public domain): see LICENSES.txt */";

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
  await esbuild.context({ ...common, entryPoints: ["src/main.ts"], outfile: join(out, "app.js"), format: "iife", banner: { js: banner }, metafile: true }),
  await esbuild.context({ ...common, entryPoints: ["src/styles/app.css"], outfile: join(out, "app.css") }),
];

await copyFile(join(here, "src", "index.html"), join(out, "index.html"));
await copyFile(join(here, "src", "favicon.svg"), join(out, "favicon.svg"));

/** Writes LICENSES.txt: the licence of every package whose code or data is
 * in app.js, in name order (so the file is the same for the same lockfile). */
async function writeLicenses(metafile) {
  const pkgs = new Set();
  for (const o of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) {
      const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m && bytesInOutput > 0) pkgs.add(m[1]);
    }
  }
  const notes = {
    "world-atlas": "The map data in it is Natural Earth's (https://www.naturalearthdata.com), which is in the public domain.\n",
  };
  let text = "Third-party software in app.js, with its licence.\n";
  for (const name of [...pkgs].sort()) {
    const dir = join(here, "node_modules", name);
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
    const file = (await readdir(dir)).filter((f) => /^licen[cs]e(\.(md|txt))?$/i.test(f)).sort()[0];
    const licence = file ? (await readFile(join(dir, file), "utf8")).trim() : `${pkg.license} (no licence file in the package)`;
    text += `\n${"=".repeat(72)}\n${name} ${pkg.version} (${pkg.license})${pkg.homepage ? " " + pkg.homepage : ""}\n${"=".repeat(72)}\n`;
    if (notes[name]) text += notes[name] + "\n";
    text += licence + "\n";
  }
  await writeFile(join(out, "LICENSES.txt"), text);
}

if (watch) {
  for (const c of contexts) await c.watch();
  await writeLicenses((await contexts[0].rebuild()).metafile);
  console.log("watching src/ (index.html is copied at start only)");
} else {
  for (const c of contexts) {
    const r = await c.rebuild();
    if (r.metafile) await writeLicenses(r.metafile);
    await c.dispose();
  }
}
