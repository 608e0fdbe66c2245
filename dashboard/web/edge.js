// The edge runtime in the browser: edge.wasm (edge/ built with emscripten,
// embedded in the dashboard) runs a job's packed generator (.bsg) on the
// visitor's machine. The module exports plain C functions (edge/wasm/api.cc);
// this wraps them. Used by app.js (the job page) and by the browser tests.
'use strict';

const BitsweepEdge = (() => {
  let modulePromise = null;

  // The module's only imports: a memory-growth notice and exit (which the
  // runtime never calls; a call means a bug, so it throws).
  async function instantiate(bytes) {
    const imports = {
      env: {emscripten_notify_memory_growth: () => {}},
      wasi_snapshot_preview1: {proc_exit: (code) => { throw new Error(`edge runtime exited with ${code}`); }},
    };
    const {instance} = await WebAssembly.instantiate(bytes, imports);
    const e = instance.exports;
    if (e._initialize) e._initialize();
    return e;
  }

  // The module, fetched once; null when this dashboard was built without it.
  function module(url = '/assets/edge.wasm') {
    modulePromise ??= fetch(url).then(async (r) => {
      if (r.status === 404) return null;
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return instantiate(await r.arrayBuffer());
    });
    return modulePromise;
  }

  function cString(e, ptr) {
    const bytes = new Uint8Array(e.memory.buffer, ptr);
    return new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
  }

  // Memory may grow during any call, which detaches earlier views: every
  // view is made afresh right where it is used.
  class Generator {
    constructor(e, handle) {
      this.e = e;
      this.handle = handle;
      this.nz = e.bsg_nz(handle);
      this.channels = e.bsg_channels(handle);
      this.size = e.bsg_image_size(handle);
      this.weightBytes = e.bsg_weight_bytes(handle);
      this.kernels = cString(e, e.bsg_kernels(handle));
    }

    // The runtime's latents for a 64-bit seed given as two 32-bit halves
    // (edge/latents.h documents the generator).
    drawLatents(seedLo, seedHi, n) {
      const e = this.e, count = n * this.nz;
      const ptr = e.bsg_malloc(count * 4);
      e.bsg_draw_latents(seedLo >>> 0, seedHi >>> 0, n, this.nz, ptr);
      const z = new Float32Array(e.memory.buffer, ptr, count).slice();
      e.bsg_free(ptr);
      return z;
    }

    // Images [n][channels][size][size] in [-1, 1] from latents [n][nz].
    generate(latents, n) {
      const e = this.e;
      const imageFloats = n * this.channels * this.size * this.size;
      const z = e.bsg_malloc(latents.length * 4);
      const out = e.bsg_malloc(imageFloats * 4);
      new Float32Array(e.memory.buffer, z, latents.length).set(latents);
      const rc = e.bsg_generate(this.handle, z, n, out);
      const images = rc === 0 ? new Float32Array(e.memory.buffer, out, imageFloats).slice() : null;
      const error = rc === 0 ? '' : cString(e, e.bsg_error());
      e.bsg_free(z);
      e.bsg_free(out);
      if (images === null) throw new Error(error);
      return images;
    }

    release() { this.e.bsg_release(this.handle); }
  }

  // A generator from the bytes of a .bsg (an ArrayBuffer or typed array).
  async function load(bsgBytes, wasmUrl) {
    const e = await module(wasmUrl);
    if (e === null) return null;
    const bytes = new Uint8Array(bsgBytes);
    const ptr = e.bsg_malloc(bytes.length);
    new Uint8Array(e.memory.buffer, ptr, bytes.length).set(bytes);
    const handle = e.bsg_load(ptr, bytes.length);
    e.bsg_free(ptr);
    if (!handle) throw new Error(cString(e, e.bsg_error()));
    return new Generator(e, handle);
  }

  // Tiles images on a canvas the way `bitsweep sample` lays out its grid:
  // ceil(sqrt(n)) columns, 2 px of black between and around tiles, pixel =
  // round((x + 1) * 127.5).
  function drawGrid(canvas, images, n, channels, size, padding = 2) {
    const cols = Math.ceil(Math.sqrt(n)), rows = Math.ceil(n / cols);
    canvas.width = cols * size + (cols + 1) * padding;
    canvas.height = rows * size + (rows + 1) * padding;
    const ctx = canvas.getContext('2d');
    const picture = ctx.createImageData(canvas.width, canvas.height);
    const px = picture.data, plane = size * size;
    for (let i = 3; i < px.length; i += 4) px[i] = 255;
    for (let k = 0; k < n; k++) {
      const top = Math.floor(k / cols) * (size + padding) + padding;
      const left = (k % cols) * (size + padding) + padding;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const at = ((top + y) * canvas.width + left + x) * 4;
          for (let c = 0; c < 3; c++) {
            const v = images[(k * channels + (channels === 3 ? c : 0)) * plane + y * size + x];
            px[at + c] = Math.min(255, Math.max(0, Math.round((v + 1) * 127.5)));
          }
        }
      }
    }
    ctx.putImageData(picture, 0, 0);
  }

  return {module, load, drawGrid, instantiate};
})();
