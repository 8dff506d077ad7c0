import { readFile } from "node:fs/promises";
import { Tokenizer } from "@huggingface/tokenizers";
import { SPECIAL_TOKENS } from "./bpe-trainer.js";
import { BYTES_TO_UNICODE } from "./byte-level.js";

const UNICODE_TO_BYTE = new Map(BYTES_TO_UNICODE.map((c, b) => [c, b]));
const utf8 = new TextEncoder();

/** A chat turn. */
export interface ChatTurn {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * The tokenizer of a VLM: a Hugging Face `tokenizer.json` loaded with @huggingface/tokenizers, plus
 * the ids of the chat template's special tokens and the ChatML template itself.
 */
export class VlmTokenizer {
  readonly eosId: number;
  readonly imStartId: number;
  readonly imEndId: number;
  readonly imageId: number;
  readonly vocabSize: number;

  constructor(
    private readonly inner: Tokenizer,
    readonly json: Record<string, unknown>,
  ) {
    const id = (t: string) => {
      const v = inner.token_to_id(t);
      if (v === undefined)
        throw new Error(`tokenizer.json: special token "${t}" is missing from the vocabulary`);
      return v;
    };
    this.eosId = id(SPECIAL_TOKENS.eos);
    this.imStartId = id(SPECIAL_TOKENS.imStart);
    this.imEndId = id(SPECIAL_TOKENS.imEnd);
    this.imageId = id(SPECIAL_TOKENS.image);
    this.vocabSize = inner.get_vocab(true).size;
  }

  /** A tokenizer from a tokenizer.json object. */
  static fromJSON(json: Record<string, unknown>): VlmTokenizer {
    return new VlmTokenizer(new Tokenizer(json, {}), json);
  }

  /** A tokenizer read from a tokenizer.json file; errors name the file. */
  static async load(file: string): Promise<VlmTokenizer> {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(await readFile(file, "utf8"));
    } catch (err) {
      throw new Error(`${file}: cannot read tokenizer: ${(err as Error).message}`);
    }
    try {
      return VlmTokenizer.fromJSON(json);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
  }

  /** Token ids of a text (special tokens written in it are recognized). */
  encode(text: string): number[] {
    return this.inner.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of token ids; special tokens are dropped unless `keepSpecial`. */
  decode(ids: number[], keepSpecial = false): string {
    // the Hugging Face decoder refuses an empty list; a response that stops at once is the empty text
    if (ids.length === 0) return "";
    return this.inner.decode(ids, { skip_special_tokens: !keepSpecial, clean_up_tokenization_spaces: false });
  }

  /** The token string of one id. */
  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }

  /** The bytes a token stands for (a special token, or one outside the byte-level alphabet: its name in UTF-8). */
  tokenBytes(id: number): number[] {
    const name = this.inner.id_to_token(id) ?? "";
    const bytes: number[] = [];
    for (const ch of name) {
      const b = UNICODE_TO_BYTE.get(ch);
      if (b === undefined) return [...utf8.encode(name)];
      bytes.push(b);
    }
    return bytes;
  }

  /**
   * Renders a chat in ChatML. With `image`, the first user turn starts with the `<image>` placeholder
   * the model replaces by its image tokens. `addGenerationPrompt` opens the assistant turn.
   */
  renderChat(turns: ChatTurn[], opts: { image?: boolean; addGenerationPrompt?: boolean } = {}): string {
    let placedImage = !opts.image;
    let out = "";
    for (const t of turns) {
      let content = t.content;
      if (!placedImage && t.role === "user") {
        content = content.includes(SPECIAL_TOKENS.image) ? content : `${SPECIAL_TOKENS.image}\n${content}`;
        placedImage = true;
      }
      out += `${SPECIAL_TOKENS.imStart}${t.role}\n${content}${SPECIAL_TOKENS.imEnd}\n`;
    }
    if (opts.addGenerationPrompt) out += `${SPECIAL_TOKENS.imStart}assistant\n`;
    return out;
  }
}
