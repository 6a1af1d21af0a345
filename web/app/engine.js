// The Propusk engine (Rust compiled to WebAssembly): the page sends an operation, a JSON header
// and bytes, and reads JSON back. No decoding, rule or reason lives here: see web/src/lib.rs.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Engine {
  static async load(url) {
    const response = await fetch(url);
    const { instance } = await WebAssembly.instantiate(await response.arrayBuffer(), {});
    return new Engine(instance);
  }

  constructor(instance) {
    this.x = instance.exports;
  }

  // The raw answer of `op` to `header` (an object) and `payload` (bytes).
  raw(op, header = {}, payload = new Uint8Array(0)) {
    const name = encoder.encode(op);
    const json = encoder.encode(JSON.stringify(header));
    const length = name.length + 4 + json.length + payload.length;
    const at = this.x.input(length);
    const input = new Uint8Array(this.x.memory.buffer, at, length);
    input.set(name, 0);
    new DataView(input.buffer, at + name.length, 4).setUint32(0, json.length, true);
    input.set(json, name.length + 4);
    input.set(payload, name.length + 4 + json.length);
    const n = this.x.call(name.length);
    return new Uint8Array(this.x.memory.buffer, this.x.output(), n).slice();
  }

  // The JSON answer; an object with `error` when the operation failed.
  call(op, header, payload) {
    return JSON.parse(decoder.decode(this.raw(op, header, payload)));
  }
}

// Frames: [u32 LE length][bytes]... (the kept trust data).
export function frames(bytes) {
  const out = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 4 <= bytes.length; ) {
    const n = view.getUint32(at, true);
    out.push(bytes.slice(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

export function framed(parts) {
  const length = parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}
