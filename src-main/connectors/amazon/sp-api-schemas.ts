import { z } from 'zod';

/*
 * The parts of the SP-API answers this connector reads, after the official models (../shared/contracts/amazon).
 * `z.object` drops the many fields we do not use, so an addition on Amazon's side never breaks a parse.
 */

/** Login with Amazon's answer to a refresh-token grant. */
export const lwaTokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive(),
});

/** Login with Amazon's OAuth error (`invalid_grant`, `invalid_client`, ...). */
export const lwaErrorSchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});

/** `ErrorList` of every SP-API model: `{ errors: [{ code, message, details? }] }`. */
export const errorListSchema = z.object({
  errors: z.array(z.object({ code: z.string(), message: z.string(), details: z.string().optional() })),
});

/** Feeds 2021-06-30 `CreateFeedDocumentResponse`. */
export const createFeedDocumentResponseSchema = z.object({
  feedDocumentId: z.string().min(1),
  url: z.string().min(1),
});

/** Feeds 2021-06-30 `CreateFeedResponse`. */
export const createFeedResponseSchema = z.object({ feedId: z.string().min(1) });

export const FEED_STATUSES = ['CANCELLED', 'DONE', 'FATAL', 'IN_PROGRESS', 'IN_QUEUE'] as const;

/** Feeds 2021-06-30 `Feed`. */
export const feedSchema = z.object({
  feedId: z.string(),
  feedType: z.string(),
  createdTime: z.string(),
  processingStatus: z.enum(FEED_STATUSES),
  resultFeedDocumentId: z.string().min(1).optional(),
});

/** Feeds 2021-06-30 `FeedDocument`. */
export const feedDocumentSchema = z.object({
  feedDocumentId: z.string(),
  url: z.string().min(1),
  compressionAlgorithm: z.literal('GZIP').optional(),
});

/** Listings Items 2021-08-01 `Item` (with `summaries` and `fulfillmentAvailability` asked for). */
export const listingsItemSchema = z.object({
  sku: z.string(),
  summaries: z
    .array(z.object({ marketplaceId: z.string(), productType: z.string(), asin: z.string().optional() }))
    .optional(),
  fulfillmentAvailability: z
    .array(z.object({ fulfillmentChannelCode: z.string(), quantity: z.number().int().min(0).optional() }))
    .optional(),
});

const issueSchema = z.object({
  code: z.string(),
  message: z.string(),
  severity: z.enum(['ERROR', 'WARNING', 'INFO']),
});

/** Listings Items 2021-08-01 `ListingsItemSubmissionResponse`. */
export const submissionResponseSchema = z.object({
  sku: z.string(),
  status: z.enum(['ACCEPTED', 'INVALID', 'VALID']),
  submissionId: z.string(),
  issues: z.array(issueSchema).optional(),
});

/** JSON_LISTINGS_FEED processing report (listings-feed-processing-report-schema-v2). */
export const processingReportSchema = z.object({
  header: z.object({ sellerId: z.string(), version: z.literal('2.0'), feedId: z.string() }),
  issues: z.array(
    z.object({
      messageId: z.number().int().min(1).optional(),
      sku: z.string().optional(),
      code: z.string().optional(),
      severity: z.enum(['ERROR', 'WARNING', 'INFO']),
      message: z.string(),
    }),
  ),
  summary: z.object({
    errors: z.number().int(),
    warnings: z.number().int(),
    messagesProcessed: z.number().int(),
    messagesAccepted: z.number().int(),
    messagesInvalid: z.number().int(),
  }),
});
export type ProcessingReport = z.output<typeof processingReportSchema>;

export const ORDER_STATUSES = [
  'Pending',
  'Unshipped',
  'PartiallyShipped',
  'Shipped',
  'Canceled',
  'Unfulfillable',
  'InvoiceUnconfirmed',
  'PendingAvailability',
] as const;

/** Orders v0 `GetOrdersResponse` (the `Order` fields read). */
export const getOrdersResponseSchema = z.object({
  payload: z.object({
    Orders: z.array(
      z.object({
        AmazonOrderId: z.string().min(1),
        PurchaseDate: z.string(),
        LastUpdateDate: z.string(),
        OrderStatus: z.enum(ORDER_STATUSES),
        FulfillmentChannel: z.enum(['MFN', 'AFN']).optional(),
      }),
    ),
    NextToken: z.string().optional(),
  }),
});

/** Orders v0 `GetOrderResponse` (the `Order` fields read). */
export const getOrderResponseSchema = z.object({
  payload: z.object({
    AmazonOrderId: z.string().min(1),
    OrderStatus: z.enum(ORDER_STATUSES),
  }),
});

/** Orders v0 `GetOrderItemsResponse` (the `OrderItem` fields read). */
export const getOrderItemsResponseSchema = z.object({
  payload: z.object({
    AmazonOrderId: z.string(),
    OrderItems: z.array(
      z.object({
        ASIN: z.string(),
        OrderItemId: z.string(),
        SellerSKU: z.string().optional(),
        QuantityOrdered: z.number().int().min(0),
      }),
    ),
    NextToken: z.string().optional(),
  }),
});
