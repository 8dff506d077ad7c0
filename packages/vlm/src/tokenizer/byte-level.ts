/** GPT-2's pre-tokenization pattern, as the ByteLevel pre-tokenizer of Hugging Face tokenizers uses it. */
export const BYTE_LEVEL_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible map from bytes to printable unicode characters. */
export const BYTES_TO_UNICODE: string[] = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Array<string>(256);
  bs.forEach((b, i) => {
    table[b] = String.fromCharCode(cs[i]);
  });
  return table;
})();

const encoder = new TextEncoder();

/** Splits text as the ByteLevel pre-tokenizer does and maps each piece's bytes to unicode symbols. */
export function byteLevelWords(text: string): string[] {
  const pieces = text.match(BYTE_LEVEL_PATTERN) ?? [];
  return pieces.map((p) => Array.from(encoder.encode(p), (b) => BYTES_TO_UNICODE[b]).join(""));
}
