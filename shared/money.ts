import type { MoneyView } from './rpc-views.js';

/** Decimal places kept: events' prices have at most 10 (shared/events.ts). */
const SCALE = 10n ** 10n;
const DECIMAL = /^(-)?(\d+)(?:\.(\d{1,10}))?$/;

/**
 * Sums of money per currency, exact (decimal text in, fixed-point integers inside, decimal text out): a day's
 * value is thousands of `qty × unit price`, which binary floating point would round.
 *
 * @example
 * const m = new Money();
 * m.add('EUR', '9.99', 3);
 * m.list(); // [{ currency: 'EUR', amount: '29.97' }]
 */
export class Money {
  readonly #sums = new Map<string, bigint>();

  /** Adds `qty × unitPrice` (a decimal string or number; a negative qty subtracts) in `currency`. */
  add(currency: string, unitPrice: string | number, qty: number): void {
    this.addScaled(currency, Money.scaled(unitPrice) * BigInt(qty));
  }

  /** Adds an amount already scaled (`Money.scaled`). */
  addScaled(currency: string, amount: bigint): void {
    this.#sums.set(currency, (this.#sums.get(currency) ?? 0n) + amount);
  }

  get(currency: string): bigint {
    return this.#sums.get(currency) ?? 0n;
  }

  currencies(): string[] {
    return [...this.#sums.keys()].sort();
  }

  /** Every currency's sum, by currency code. */
  list(): MoneyView[] {
    return this.currencies().map((currency) => ({ currency, amount: Money.format(this.get(currency)) }));
  }

  /** A decimal as a fixed-point integer (10 decimal places). Throws on text that is not a decimal. */
  static scaled(value: string | number): bigint {
    const text = typeof value === 'number' ? value.toFixed(10) : value.trim();
    const m = DECIMAL.exec(text);
    if (m === null) throw new Error(`"${text}" is not a decimal amount`);
    const amount = BigInt(m[2]!) * SCALE + BigInt((m[3] ?? '').padEnd(10, '0'));
    return m[1] === '-' ? -amount : amount;
  }

  /** A fixed-point integer as decimal text, with at least two decimals (`29.97`, `-3.50`, `0.125`). */
  static format(amount: bigint): string {
    const sign = amount < 0n ? '-' : '';
    const abs = amount < 0n ? -amount : amount;
    const fraction = String(abs % SCALE)
      .padStart(10, '0')
      .replace(/0+$/, '')
      .padEnd(2, '0');
    return `${sign}${abs / SCALE}.${fraction}`;
  }

  /** A price in one spelling, so `9.9` and `9.90` are one statement line. */
  static normalize(value: string | number): string {
    return Money.format(Money.scaled(value));
  }
}
