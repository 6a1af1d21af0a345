// Reads every PNG/JPEG in a directory with the web app's engine (web/app/engine.wasm, the
// reader the browser runs) and prints, per file, what `read_images` prints natively:
// `node scripts/read-images-wasm.mjs DIR` (Node 18 or later). scripts/reader-set.py --wasm
// uses it to measure the WebAssembly build on the same set.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../web/app/engine.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: read-images-wasm.mjs DIR');
  process.exit(64);
}
const wasm = readFileSync(new URL('../web/app/engine.wasm', import.meta.url));
const { instance } = await WebAssembly.instantiate(wasm, {});
const engine = new Engine(instance);
const names = readdirSync(dir).filter((n) => /\.(png|jpg)$/.test(n)).sort();
let read = 0;
for (const name of names) {
  const bytes = new Uint8Array(readFileSync(join(dir, name)));
  const started = performance.now();
  const answer = engine.call('image', {}, bytes);
  const ms = (performance.now() - started).toFixed(1);
  if (answer.text !== undefined) {
    read += 1;
    console.log(`${name}\tread\t${ms} ms\t${JSON.stringify(answer.text).slice(1, -1)}`);
  } else {
    console.log(`${name}\tnot read\t${ms} ms\t${answer.error}`);
  }
}
console.log(`${read} of ${names.length} read`);
