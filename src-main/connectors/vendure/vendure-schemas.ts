import { z } from 'zod';

/**
 * The models of the Vendure Admin API answers Backroom reads (Vendure 2 and 3). Only the fields asked for are
 * modelled; objects are not strict, so a newer Vendure adding fields still parses. Ids are strings (`ID!`).
 */

/** A GraphQL answer: `data` and/or `errors` (`extensions.code` is Vendure's error code, e.g. `FORBIDDEN`). */
export const graphQlEnvelopeSchema = z.object({
  data: z.record(z.string(), z.unknown()).nullish(),
  errors: z
    .array(
      z.object({
        message: z.string(),
        extensions: z.object({ code: z.string().optional() }).loose().optional(),
      }),
    )
    .optional(),
});

/** `login`: a CurrentUser, or an ErrorResult (`InvalidCredentialsError`, `NativeAuthStrategyError`). */
export const loginSchema = z.object({
  login: z.object({
    __typename: z.string(),
    message: z.string().optional(),
  }),
});

/** The connection test's answer: the logged-in administrator and the channel the requests work in. */
export const probeSchema = z.object({
  activeAdministrator: z.object({ emailAddress: z.string() }).nullable(),
  activeChannel: z.object({ code: z.string() }),
});

const stockLevelSchema = z.object({
  stockLocationId: z.string(),
  stockOnHand: z.number().int(),
  stockAllocated: z.number().int(),
});

/** A variant with what publishing and reading its levels needs. */
export const variantStockSchema = z.object({
  id: z.string(),
  sku: z.string(),
  outOfStockThreshold: z.number().int(),
  useGlobalOutOfStockThreshold: z.boolean(),
  stockLevels: z.array(stockLevelSchema),
});
export type VariantStock = z.infer<typeof variantStockSchema>;

export const variantsStockSchema = z.object({
  productVariants: z.object({ items: z.array(variantStockSchema) }),
  globalSettings: z.object({ outOfStockThreshold: z.number().int() }),
});

/** Variants found by SKU (mapping discovery). */
export const variantsBySkuSchema = z.object({
  productVariants: z.object({ items: z.array(z.object({ id: z.string(), sku: z.string() })) }),
});

export const stockLocationsSchema = z.object({
  stockLocations: z.object({
    items: z.array(z.object({ id: z.string(), name: z.string() })),
    totalItems: z.number().int(),
  }),
});

/** `updateProductVariants`: the updated variants (an entry is null for one Vendure could not return). */
export const updateVariantsSchema = z.object({
  updateProductVariants: z.array(
    z.object({ id: z.string(), stockLevels: z.array(stockLevelSchema) }).nullable(),
  ),
});

export const orderSchema = z.object({
  id: z.string(),
  code: z.string(),
  state: z.string(),
  updatedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date-time'),
  lines: z.array(
    z.object({
      id: z.string(),
      quantity: z.number().int().min(0),
      orderPlacedQuantity: z.number().int().min(0),
      productVariant: z.object({ id: z.string(), sku: z.string() }),
    }),
  ),
  /** Refunds by line say which goods come back (`RemoteOrder.returned`). */
  payments: z
    .array(
      z.object({
        refunds: z.array(
          z.object({
            state: z.string(),
            lines: z.array(z.object({ orderLineId: z.string(), quantity: z.number().int().min(0) })),
          }),
        ),
      }),
    )
    .nullable(),
});
export type VendureOrder = z.infer<typeof orderSchema>;

export const ordersSchema = z.object({
  orders: z.object({ items: z.array(orderSchema), totalItems: z.number().int().min(0) }),
});
