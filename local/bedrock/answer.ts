/**
 * Deterministic answers for the fake model: the text is a pure function of the model id and the
 * last user message, so a test can compute the exact answer the gateway should relay.
 */

// A small fixed vocabulary keeps answers readable in the chat UI and in logs.
const WORDS = [
  "the", "gateway", "streams", "tokens", "from", "a", "model", "to", "your", "channel", "quickly",
  "and", "every", "answer", "is", "metered", "per", "user", "with", "care", "local", "mode",
  "runs", "on", "one", "machine", "so", "tests", "can", "check", "each", "event", "in", "order",
  "while", "limits", "stay", "safe", "under", "load", "clouds", "rivers", "lanterns", "quiet",
  "bright", "signals", "arrive", "gently",
];

/** FNV-1a, 32 bit: stable across Node versions and platforms, unlike anything seeded by time. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** mulberry32: a tiny seeded PRNG, good enough to pick words. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The answer the fake model gives to `lastUserMessage` (directives already removed) on
 * `modelId`: exactly `tokens` words separated by single spaces, ending with a full stop.
 */
export function fakeAnswer(modelId: string, lastUserMessage: string, tokens: number): string {
  const random = seededRandom(hashText(`${modelId}\n${lastUserMessage}`));
  const words: string[] = [];
  for (let i = 0; i < tokens; i++) words.push(WORDS[Math.floor(random() * WORDS.length)]!);
  if (words.length === 0) return "";
  words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1);
  return `${words.join(" ")}.`;
}

/**
 * Splits an answer into stream tokens: each whitespace-delimited word keeps its trailing
 * whitespace, so joining the tokens gives the answer back and N words are N deltas.
 */
export function splitTokens(answer: string): string[] {
  return answer.match(/\s*\S+\s*/g) ?? [];
}

/**
 * Input-token estimate the fake reports as usage: ceil(characters / 4) over the system prompt and
 * the text of every message — the usual rule of thumb for English text on Bedrock's models.
 */
export function estimateInputTokens(texts: readonly string[]): number {
  const chars = texts.reduce((sum, text) => sum + text.length, 0);
  return Math.ceil(chars / 4);
}
