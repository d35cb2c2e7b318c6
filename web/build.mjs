#!/usr/bin/env node
/*
 * build.mjs - bundles the dashboard: web/src/main.js and everything it
 * imports (uPlot included; its CSS and ours into one stylesheet) into
 * web/dist/assets/app-<hash>.js and app-<hash>.css, minified, for
 * browsers of the last few years (es2020). Then writes web/dist/index.html
 * naming those two files. The hash in a name changes with the content, so
 * nginx lets browsers cache assets for a year while index.html is never
 * cached: a new build is seen on the next load, never half of it.
 *
 *   node web/build.mjs            build (make web does this)
 *   node web/build.mjs --check    build, then print sizes (raw and gzip)
 *
 * Old assets are removed, so web/dist holds exactly one build.
 */
import { mkdir, readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(WEB, 'dist');
const ASSETS = path.join(DIST, 'assets');

async function main() {
  let build;
  try {
    ({ build } = await import('esbuild'));
  } catch {
    throw new Error('esbuild is not installed: run make deps');
  }
  const tmp = path.join(WEB, `.dist-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  const out = await build({
    entryPoints: { app: path.join(WEB, 'src/main.js') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020'],
    outdir: path.join(tmp, 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'eof',
    logLevel: 'warning',
    sourcemap: false,
  });
  const files = Object.keys(out.metafile.outputs).map((f) => path.basename(f));
  const js = files.find((f) => /^app-.*\.js$/.test(f));
  const css = files.find((f) => /^app-.*\.css$/.test(f));
  if (!js || !css) throw new Error(`build produced ${files.join(', ')}: no app js/css`);
  let html = await readFile(path.join(WEB, 'index.html'), 'utf8');
  html = html.replace('@APP_JS@', js).replace('@APP_CSS@', css);
  await writeFile(path.join(tmp, 'index.html'), html);
  /* swap whole: nginx never serves a page naming assets not yet there */
  await mkdir(DIST, { recursive: true });
  const old = path.join(WEB, `.old-${process.pid}`);
  await rename(DIST, old);
  await rename(tmp, DIST);
  await rm(old, { recursive: true, force: true });
  if (process.argv.includes('--check')) {
    for (const f of await readdir(ASSETS)) {
      const data = await readFile(path.join(ASSETS, f));
      console.log(`${f}: ${data.length} bytes, ${gzipSync(data).length} gzip`);
    }
  }
}

main().catch((err) => {
  console.error(`web/build.mjs: ${err.message}`);
  process.exit(1);
});
