/*
 * The Amazon fake's offer prices (issue 12): a listing's `purchasable_offer` (`our_price` in the marketplace's
 * currency), set by `patchListingsItem`, whose request the fake has already validated against the Listings Items
 * 2021-08-01 model (a `ListingsItemPatchRequest` of JSON Patch operations). The attribute's own shape comes from
 * Amazon's product type definitions, which the contracts do not hold; it is checked here as those give it:
 * `[{ marketplace_id, currency, our_price: [{ schedule: [{ value_with_tax }] }] }]`.
 */

/** One price the fake applied, in order. */
export type AppliedOffer = Readonly<{ sku: string; amount: number; currency: string; at: number }>;

/** What a patch of prices came to: applied, or refused with Amazon's issue code and words. */
export type PricePatchOutcome = { ok: true } | { ok: false; code: string; message: string };

/** The currency each marketplace sells in (the fake's default marketplace is the US one). */
const MARKETPLACE_CURRENCY: Readonly<Record<string, string>> = {
  ATVPDKIKX0DER: 'USD',
  A1PA6795UKMFR9: 'EUR',
  A1F83G8C2ARO7P: 'GBP',
  A2EUQ1WTGCTBG2: 'CAD',
};

export class AmazonFakePrices {
  readonly #marketplaceId: string;
  readonly #offers = new Map<string, { amount: number; currency: string }>();
  readonly #applied: AppliedOffer[] = [];

  constructor(marketplaceId: string) {
    this.#marketplaceId = marketplaceId;
  }

  /** Every price applied, in order. */
  get applied(): readonly AppliedOffer[] {
    return this.#applied;
  }

  /** How many price updates a SKU's listing took. */
  updatesOf(sku: string): number {
    return this.#applied.filter((a) => a.sku === sku).length;
  }

  /** A listing's offer price now, or null. */
  offerOf(sku: string): { amount: number; currency: string } | null {
    return this.#offers.get(sku) ?? null;
  }

  /** Staff change the price in Seller Central (for drift). */
  setOffer(sku: string, amount: number, currency = this.currency): void {
    this.#offers.set(sku, { amount, currency });
  }

  get currency(): string {
    return MARKETPLACE_CURRENCY[this.#marketplaceId] ?? 'USD';
  }

  /** Whether a patch touches the offer (then `apply` judges all of it). */
  isPricePatch(patches: readonly unknown[]): boolean {
    return patches.some((p) => (p as { path?: unknown }).path === '/attributes/purchasable_offer');
  }

  /** Applies a patch of `purchasable_offer` to a listing, or says what Amazon would refuse. */
  apply(sku: string, patches: readonly unknown[], isPreview: boolean): PricePatchOutcome {
    let offer: { amount: number; currency: string } | null = null;
    for (const patch of patches) {
      const { op, path, value } = patch as { op: string; path: string; value?: unknown };
      if (path !== '/attributes/purchasable_offer')
        return { ok: false, code: '90244', message: `patching ${path} with an offer is not simulated` };
      if (op !== 'replace' && op !== 'merge')
        return { ok: false, code: '90244', message: `${op} of purchasable_offer is not simulated` };
      const judged = this.#offerOfValue(value);
      if (typeof judged === 'string') return { ok: false, code: '90244', message: judged };
      offer = judged;
    }
    if (offer === null) return { ok: false, code: '90244', message: 'no patch sets purchasable_offer' };
    if (!isPreview) {
      this.#offers.set(sku, offer);
      this.#applied.push({ sku, ...offer, at: Date.now() });
    }
    return { ok: true };
  }

  #offerOfValue(value: unknown): { amount: number; currency: string } | string {
    if (!Array.isArray(value) || value.length !== 1) return 'purchasable_offer must hold one entry';
    const entry = value[0] as {
      marketplace_id?: unknown;
      currency?: unknown;
      our_price?: unknown;
      audience?: unknown;
    };
    if (entry.marketplace_id !== this.#marketplaceId)
      return `purchasable_offer.marketplace_id must be ${this.#marketplaceId} (was ${JSON.stringify(entry.marketplace_id)})`;
    if (entry.currency !== this.currency)
      return `'${String(entry.currency)}' is not the currency of marketplace ${this.#marketplaceId} (${this.currency})`;
    if (entry.audience !== undefined && entry.audience !== 'ALL' && entry.audience !== 'B2B')
      return `purchasable_offer.audience must be ALL or B2B`;
    const schedule = (entry.our_price as { schedule?: { value_with_tax?: unknown }[] }[] | undefined)?.[0]
      ?.schedule;
    if (!Array.isArray(schedule) || schedule.length !== 1)
      return 'purchasable_offer.our_price must hold one schedule with one entry';
    const amount = schedule[0]?.value_with_tax;
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0)
      return `'${JSON.stringify(amount)}' is not a valid price: a number above 0 is required`;
    return { amount, currency: entry.currency };
  }

  /** The offer as `getListingsItem` shows it in `attributes`. */
  attributesOf(sku: string): Record<string, unknown> {
    const offer = this.#offers.get(sku);
    if (!offer) return {};
    return {
      purchasable_offer: [
        {
          marketplace_id: this.#marketplaceId,
          currency: offer.currency,
          audience: 'ALL',
          our_price: [{ schedule: [{ value_with_tax: offer.amount }] }],
        },
      ],
    };
  }
}
