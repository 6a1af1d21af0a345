// The QR reader in a worker of its own (the same engine, another instance): an image or a frame
// made to stall the reader cannot freeze the page, and the page ends this worker — and the
// memory it took — when a read runs past its budget (app.js, Reader).
import { Engine } from './engine.js';

const ready = Engine.load('engine.wasm');

self.onmessage = async (event) => {
  const { id, op, header, payload } = event.data;
  let answer;
  try {
    answer = (await ready).call(op, header, payload);
  } catch (e) {
    // The engine trapped: this worker is done; the page starts another.
    answer = { error: String(e.message || e), reason: 'not_an_image', dead: true };
  }
  self.postMessage({ id, answer });
};
