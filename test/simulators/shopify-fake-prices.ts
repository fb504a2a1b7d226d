/*
 * The Shopify fake's prices (issue 12): each variant's `price` and `compareAtPrice`, its product, and the
 * `productVariantsBulkUpdate` mutation, validated against the full Admin schema by the fake before it gets here.
 * Kept apart from shopify-fake.ts, which wires it in with a field, a spread into its root value and one into its
 * variant view.
 */

/** What the fake knows of a variant: its ids, SKU and title (the fake's own item record, in part). */
export type FakeVariant = Readonly<{ id: number; variantId: number; sku: string; title: string }>;

/** One price update the shop applied, in order. */
export type AppliedPrice = Readonly<{
  sku: string;
  price: string;
  compareAtPrice: string | null;
  at: number;
}>;

/** Money as the Admin API takes it: a decimal string without currency (`"100.57"`). */
const MONEY = /^[0-9]{1,12}(\.[0-9]{1,6})?$/;

const gid = (type: string, id: number) => `gid://shopify/${type}/${id}`;
function idOf(value: unknown, type: string): number | null {
  if (typeof value !== 'string') return null;
  const match = new RegExp(`^gid://shopify/${type}/(\\d+)$`).exec(value);
  return match ? Number(match[1]) : null;
}

type BulkInput = { id?: unknown; price?: unknown; compareAtPrice?: unknown } & Record<string, unknown>;

/**
 * Prices of the fake shop. A product is the fake's one-variant product of an item: its id is the item's number
 * under `Product`. Every new variant is priced 0.00 with no compare-at price, as a fresh Shopify variant.
 */
export class ShopifyFakePrices {
  readonly #variants: () => Iterable<FakeVariant>;
  readonly #prices = new Map<number, { price: string; compareAtPrice: string | null }>();
  readonly #applied: AppliedPrice[] = [];
  /** The shop's currency (`shop.currencyCode`): every variant price is in it. */
  currency = 'USD';

  /** `variants`: the shop's variants now (read at each call, so added items are seen). */
  constructor(variants: () => Iterable<FakeVariant>) {
    this.#variants = variants;
  }

  /** Every price update applied, in order. */
  get applied(): readonly AppliedPrice[] {
    return this.#applied;
  }

  /** How many price updates a SKU's variant took. */
  updatesOf(sku: string): number {
    return this.#applied.filter((a) => a.sku === sku).length;
  }

  /** A SKU's variant's price now (null when the shop has no variant of that SKU). */
  priceOf(sku: string): { price: string; compareAtPrice: string | null } | null {
    const variant = [...this.#variants()].find((v) => v.sku === sku);
    return variant ? this.#priceOfVariant(variant.variantId) : null;
  }

  /** Staff change a price in the Shopify admin (for drift). */
  setPrice(sku: string, price: string, compareAtPrice: string | null = null): void {
    const variant = [...this.#variants()].find((v) => v.sku === sku);
    if (!variant) throw new Error(`the fake shop has no variant of ${sku}`);
    this.#prices.set(variant.variantId, { price, compareAtPrice });
  }

  #priceOfVariant(variantId: number): { price: string; compareAtPrice: string | null } {
    return this.#prices.get(variantId) ?? { price: '0.00', compareAtPrice: null };
  }

  /** The price fields of a variant's view. */
  variantFields(variant: FakeVariant): Record<string, unknown> {
    const { price, compareAtPrice } = this.#priceOfVariant(variant.variantId);
    return { price, compareAtPrice, product: () => this.#productView(variant) };
  }

  #productView(variant: FakeVariant): Record<string, unknown> {
    return { id: gid('Product', variant.id), title: variant.title, handle: `product-${variant.id}` };
  }

  #variantView(variant: FakeVariant): Record<string, unknown> {
    return {
      id: gid('ProductVariant', variant.variantId),
      sku: variant.sku,
      title: 'Default Title',
      displayName: `${variant.title} - Default Title`,
      ...this.variantFields(variant),
    };
  }

  /** The root fields this part of the fake serves. */
  resolvers(): Record<string, unknown> {
    return {
      shop: () => ({ currencyCode: this.currency, name: 'Backroom fake shop' }),
      productVariantsBulkUpdate: (args: {
        productId: string;
        variants: readonly BulkInput[];
        allowPartialUpdates?: boolean | null;
      }) => this.#bulkUpdate(args),
    };
  }

  /**
   * `productVariantsBulkUpdate` as Shopify answers it: the product must exist, every variant must be one of its
   * own and every price a Money string; without `allowPartialUpdates` one error refuses them all.
   */
  #bulkUpdate(args: {
    productId: string;
    variants: readonly BulkInput[];
    allowPartialUpdates?: boolean | null;
  }): Record<string, unknown> {
    const productNo = idOf(args.productId, 'Product');
    const all = [...this.#variants()];
    const product = all.find((v) => v.id === productNo);
    const errors: { field: string[]; message: string; code: string }[] = [];
    if (product === undefined)
      return {
        product: null,
        productVariants: null,
        userErrors: [
          { field: ['productId'], message: 'Product does not exist', code: 'PRODUCT_DOES_NOT_EXIST' },
        ],
      };
    const changes: { variant: FakeVariant; price: string; compareAtPrice: string | null }[] = [];
    args.variants.forEach((input, i) => {
      const variantNo = idOf(input.id, 'ProductVariant');
      const variant = all.find((v) => v.variantId === variantNo);
      if (variant === undefined || variant.id !== product.id) {
        errors.push({
          field: ['variants', String(i), 'id'],
          message: 'Product variant does not exist',
          code: 'PRODUCT_VARIANT_DOES_NOT_EXIST',
        });
        return;
      }
      const current = this.#priceOfVariant(variant.variantId);
      const price = input.price === undefined ? current.price : input.price;
      const compareAt = input.compareAtPrice === undefined ? current.compareAtPrice : input.compareAtPrice;
      if (typeof price !== 'string' || !MONEY.test(price)) {
        errors.push({
          field: ['variants', String(i), 'price'],
          message: `Price is invalid: ${JSON.stringify(price)}`,
          code: 'INVALID_INPUT',
        });
        return;
      }
      if (compareAt !== null && (typeof compareAt !== 'string' || !MONEY.test(compareAt))) {
        errors.push({
          field: ['variants', String(i), 'compareAtPrice'],
          message: `Compare at price is invalid: ${JSON.stringify(compareAt)}`,
          code: 'INVALID_INPUT',
        });
        return;
      }
      changes.push({ variant, price, compareAtPrice: compareAt });
    });
    if (errors.length > 0 && args.allowPartialUpdates !== true)
      return { product: this.#productView(product), productVariants: null, userErrors: errors };
    const now = Date.now();
    for (const c of changes) {
      this.#prices.set(c.variant.variantId, { price: c.price, compareAtPrice: c.compareAtPrice });
      this.#applied.push({ sku: c.variant.sku, price: c.price, compareAtPrice: c.compareAtPrice, at: now });
    }
    return {
      product: this.#productView(product),
      productVariants: changes.map((c) => this.#variantView(c.variant)),
      userErrors: errors,
    };
  }
}
