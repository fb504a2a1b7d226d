/**
 * Available-to-sell for one channel: on hand − reserved − safety stock − the channel's buffer, never below 0.
 * Pure, so that the oversell property tests can drive it directly.
 *
 * @example availableToSell({ onHand: 10, reserved: 2, safetyStock: 1, buffer: 3 }) // 4
 */
export function availableToSell(
  level: Readonly<{ onHand: number; reserved: number; safetyStock: number; buffer: number }>,
): number {
  return Math.max(0, level.onHand - level.reserved - level.safetyStock - level.buffer);
}
