/**
 * A small deterministic zlib stream (RFC 1950/1951): one block with the fixed Huffman code and
 * run-length matches (distance 1). zlib's own output depends on its version and on CPU-specific
 * hashing, so generated PNGs would differ between machines; this encoder's bytes depend only on
 * the input.
 */

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
  227, 258,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];

/** For each match length 3–258: its length code index. */
const LENGTH_CODE = new Uint8Array(259);
for (let c = 0; c < LENGTH_BASE.length; c++) {
  const end = c + 1 < LENGTH_BASE.length ? LENGTH_BASE[c + 1] : 259;
  for (let len = LENGTH_BASE[c]; len < end; len++) LENGTH_CODE[len] = c;
}

/** Fixed Huffman code of a literal/length symbol: [code, bit count]. */
function fixedCode(sym: number): [number, number] {
  if (sym < 144) return [0x30 + sym, 8];
  if (sym < 256) return [0x190 + sym - 144, 9];
  if (sym < 280) return [sym - 256, 7];
  return [0xc0 + sym - 280, 8];
}

function reverseBits(code: number, bits: number): number {
  let out = 0;
  for (let i = 0; i < bits; i++) {
    out = (out << 1) | (code & 1);
    code >>>= 1;
  }
  return out;
}

/** Bit-reversed fixed codes, ready to emit LSB first. */
const SYM_CODE = new Uint16Array(288);
const SYM_BITS = new Uint8Array(288);
for (let s = 0; s < 288; s++) {
  const [code, bits] = fixedCode(s);
  SYM_CODE[s] = reverseBits(code, bits);
  SYM_BITS[s] = bits;
}

class BitWriter {
  private buf: Uint8Array;
  private pos = 0;
  private acc = 0;
  private nbits = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(64, capacity));
  }

  write(value: number, bits: number): void {
    this.acc |= value << this.nbits;
    this.nbits += bits;
    while (this.nbits >= 8) {
      if (this.pos === this.buf.length) this.grow();
      this.buf[this.pos++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.nbits -= 8;
    }
  }

  byte(value: number): void {
    this.write(value & 0xff, 8);
  }

  finish(): Uint8Array {
    if (this.nbits > 0) this.write(0, 8 - this.nbits);
    return this.buf.subarray(0, this.pos);
  }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * 2);
    next.set(this.buf);
    this.buf = next;
  }
}

/** Adler-32 of `data`. */
export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    const end = Math.min(data.length, i + 5552);
    for (; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** The zlib stream of `data`: deterministic bytes, decodable by any inflater. */
export function zlibDeflate(data: Uint8Array): Uint8Array {
  const w = new BitWriter(data.length + (data.length >> 3) + 16);
  w.byte(0x78);
  w.byte(0x01);
  w.write(1, 1); // BFINAL
  w.write(1, 2); // BTYPE = fixed Huffman
  const n = data.length;
  let i = 0;
  while (i < n) {
    let run = 0;
    if (i > 0) {
      const prev = data[i - 1];
      const max = Math.min(258, n - i);
      while (run < max && data[i + run] === prev) run++;
    }
    if (run >= 3) {
      const c = LENGTH_CODE[run];
      const sym = 257 + c;
      w.write(SYM_CODE[sym], SYM_BITS[sym]);
      if (LENGTH_EXTRA[c] > 0) w.write(run - LENGTH_BASE[c], LENGTH_EXTRA[c]);
      w.write(0, 5); // distance code 0 (distance 1), 5 bits, no extra
      i += run;
    } else {
      w.write(SYM_CODE[data[i]], SYM_BITS[data[i]]);
      i++;
    }
  }
  w.write(SYM_CODE[256], SYM_BITS[256]);
  const a = adler32(data);
  const body = w.finish();
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  out[body.length] = a >>> 24;
  out[body.length + 1] = (a >>> 16) & 0xff;
  out[body.length + 2] = (a >>> 8) & 0xff;
  out[body.length + 3] = a & 0xff;
  return out;
}
