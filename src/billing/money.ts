/** Credits are stored as integer micro-credits; shown as decimals on the wire. */
export const MICRO_PER_CREDIT = 1_000_000;

export function creditsToMicro(credits: number): number {
  return Math.round(credits * MICRO_PER_CREDIT);
}

export function microToCredits(micro: number): number {
  return micro / MICRO_PER_CREDIT;
}
