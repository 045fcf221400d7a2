/** Cuts a string to at most `max` Unicode code points (never splitting a surrogate pair). */
export function truncateCodePoints(text: string, max: number): string {
  if (text.length <= max) return text; // UTF-16 length ≥ code points, so nothing to cut
  let count = 0;
  let end = 0;
  for (const char of text) {
    if (count === max) break;
    count += 1;
    end += char.length;
  }
  return text.slice(0, end);
}

const HAN = /\p{Script=Han}/u;

/** True when the text holds any Han (CJK ideograph) character. */
export function containsHan(text: string): boolean {
  return HAN.test(text);
}
