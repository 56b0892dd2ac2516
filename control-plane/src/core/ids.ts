// Random identifiers: spec ids (8 chars of lowercase base36), run ids and lease tokens.
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export function randomBase36(length: number): string {
  // 252 is the largest multiple of 36 below 256: rejecting above it keeps the draw uniform.
  let out = "";
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < 252 && out.length < length) out += ALPHABET[b % 36];
    }
  }
  return out;
}

export const newSpecId = () => randomBase36(8);
export const newRunId = () => `r${randomBase36(11)}`;
export const newLeaseToken = () => `lt_${randomBase36(24)}`;
