import { z } from 'zod';

/*
 * The GraphQL documents the Shopify connector sends (Admin API 2026-10), the zod schemas their `data` is parsed
 * with, and their requested cost by Shopify's documented rules (objects 1, scalars and enums 0, a connection 2 +
 * its page size × the cost of a node, a mutation 10), so a request is only sent when the bucket holds it.
 */

/** A mutation costs 10 points, whatever it carries. */
export const PUBLISH_COST = 10;

/** Most quantities one `inventorySetQuantities` call takes. */
export const MAX_QUANTITIES = 250;

/** Most orders per page, lines per order in that page, and most lines per follow-up page of one long order. */
export const ORDERS_PAGE_SIZE = 20;
export const ORDER_LINES_FIRST = 10;
export const MORE_LINES_FIRST = 100;
/** Most locations per page when discovering them. */
export const LOCATIONS_PAGE_SIZE = 50;
/** Most aliases in one read or discovery request. */
export const MAX_ALIASES = 50;
/** Most pages of locations, and of one order's lines, read in one go. */
export const MAX_PAGES = 20;

/** A page or chunk size sized from the bucket: `value` rounded down, kept within [min, max]. */
export const clamp = (value: number, min: number, max: number) =>
  Math.max(min, Math.min(max, Math.floor(value)));

// ---- publish ----

export const PUBLISH_MUTATION = /* GraphQL */ `
  mutation BackroomPublishLevels($input: InventorySetQuantitiesInput!, $key: String!) {
    inventorySetQuantities(input: $input) @idempotent(key: $key) {
      inventoryAdjustmentGroup {
        id
      }
      userErrors {
        code
        field
        message
      }
    }
  }
`;

export const publishData = z.object({
  inventorySetQuantities: z
    .object({
      inventoryAdjustmentGroup: z.object({ id: z.string() }).nullable(),
      userErrors: z.array(
        z.object({ code: z.string().nullable(), field: z.array(z.string()).nullable(), message: z.string() }),
      ),
    })
    .nullable(),
});
export type PublishData = z.output<typeof publishData>;

// ---- discovery ----

/** Quotes a value for Shopify's search syntax (`sku:'...'`): backslash and single quote are escaped. */
export function searchValue(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export const DISCOVER_ITEMS_QUERY = /* GraphQL */ `
  query BackroomDiscoverItems($first: Int!, $query: String!, $after: String) {
    inventoryItems(first: $first, query: $query, after: $after) {
      nodes {
        id
        sku
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** Items of a few SKUs at once (`sku:'A' OR sku:'B'`); twice as many rows as SKUs, to see duplicates. */
export function discoverItemsVariables(skus: readonly string[]): { first: number; query: string } {
  return {
    first: Math.min(250, skus.length * 2),
    query: skus.map((s) => `sku:${searchValue(s)}`).join(' OR '),
  };
}

export const discoverItemsCost = (first: number) => 2 + first;

export const discoverItemsData = z.object({
  inventoryItems: z.object({
    nodes: z.array(z.object({ id: z.string(), sku: z.string().nullable() })),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
  }),
});

export const LOCATIONS_QUERY = /* GraphQL */ `
  query BackroomLocations($first: Int!, $after: String) {
    locations(first: $first, after: $after) {
      nodes {
        id
        name
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

export type LocationsData = z.output<typeof locationsData>;

export const locationsCost = (first: number) => 2 + first;

export const locationsData = z.object({
  locations: z.object({
    nodes: z.array(z.object({ id: z.string(), name: z.string() })),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
  }),
});

export type DiscoverItemsData = z.output<typeof discoverItemsData>;

// ---- connection test ----

/**
 * The connection test: the shop's first location, the cheapest read the granted scopes allow (the connector
 * needs `read_locations` anyway), which Shopify answers only with a valid access token.
 */
export const PROBE_QUERY = /* GraphQL */ `
  query BackroomConnectionTest {
    locations(first: 1) {
      nodes {
        name
      }
    }
  }
`;

export const PROBE_COST = locationsCost(1);

export const probeData = z.object({
  locations: z.object({ nodes: z.array(z.object({ name: z.string() })) }),
});

// ---- level reads ----

/**
 * One request reading `available` of several (inventory item, location) pairs, one alias each:
 * `r0: inventoryItem(id: $i0) { inventoryLevel(locationId: $l0) { quantities(names: ["available"]) { ... } } }`.
 */
export function readLevelsQuery(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$i${i}: ID!, $l${i}: ID!`).join(', ');
  const fields = Array.from(
    { length: count },
    (_, i) =>
      `r${i}: inventoryItem(id: $i${i}) { id inventoryLevel(locationId: $l${i}) { quantities(names: ["available"]) { name quantity } } }`,
  ).join('\n    ');
  return `query BackroomReadLevels(${variables}) {\n    ${fields}\n  }`;
}

export function readLevelsVariables(
  pairs: readonly Readonly<{ item: string; location: string }>[],
): Record<string, string> {
  return Object.fromEntries(
    pairs.flatMap((p, i) => [
      [`i${i}`, p.item],
      [`l${i}`, p.location],
    ]),
  );
}

/** Item, level and the quantities list: 3 points a pair. */
export const readLevelsCost = (count: number) => 3 * count;

const levelAlias = z
  .object({
    id: z.string(),
    inventoryLevel: z
      .object({ quantities: z.array(z.object({ name: z.string(), quantity: z.number().int() })) })
      .nullable(),
  })
  .nullable();

export const readLevelsData = (count: number) =>
  z.object(Object.fromEntries(Array.from({ length: count }, (_, i) => [`r${i}`, levelAlias])));

// ---- orders ----

const LINE_FIELDS = 'sku currentQuantity variant { inventoryItem { id } }';

export const ORDERS_QUERY = /* GraphQL */ `
  query BackroomOrders($first: Int!, $after: String, $query: String) {
    orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        name
        updatedAt
        cancelledAt
        displayFulfillmentStatus
        displayFinancialStatus
        returnStatus
        fulfillmentOrders(first: 1) {
          nodes {
            assignedLocation {
              location {
                id
              }
            }
          }
        }
        lineItems(first: ${ORDER_LINES_FIRST}) {
          pageInfo {
            hasNextPage
            endCursor
          }
          nodes {
            ${LINE_FIELDS}
          }
        }
      }
    }
  }
`;

/** Per order: itself 1, its first fulfillment order (2 + 3), its first lines (2 + lines × 3). */
export const ORDER_NODE_COST = 1 + (2 + 3) + (2 + ORDER_LINES_FIRST * 3);
export const ordersCost = (first: number) => 2 + first * ORDER_NODE_COST;

export const MORE_LINES_QUERY = /* GraphQL */ `
  query BackroomOrderLines($id: ID!, $first: Int!, $after: String) {
    order(id: $id) {
      lineItems(first: $first, after: $after) {
        pageInfo {
          hasNextPage
          endCursor
        }
        nodes {
          ${LINE_FIELDS}
        }
      }
    }
  }
`;

export const moreLinesCost = (first: number) => 1 + 2 + first * 3;

const lineNode = z.object({
  sku: z.string().nullable(),
  currentQuantity: z.number().int(),
  variant: z.object({ inventoryItem: z.object({ id: z.string() }) }).nullable(),
});
export type LineNode = z.output<typeof lineNode>;

const lineConnection = z.object({
  pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
  nodes: z.array(lineNode),
});

const orderNode = z.object({
  id: z.string(),
  name: z.string(),
  updatedAt: z.string(),
  cancelledAt: z.string().nullable(),
  displayFulfillmentStatus: z.string(),
  /** With `returnStatus`, says whether the order's refunds and returns are worth reading (shopify-returns.ts). */
  displayFinancialStatus: z.string().nullable(),
  returnStatus: z.string(),
  fulfillmentOrders: z.object({
    nodes: z.array(
      z.object({ assignedLocation: z.object({ location: z.object({ id: z.string() }).nullable() }) }),
    ),
  }),
  lineItems: lineConnection,
});
export type OrderNode = z.output<typeof orderNode>;

export const ordersData = z.object({
  orders: z.object({
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
    nodes: z.array(orderNode),
  }),
});

export const moreLinesData = z.object({ order: z.object({ lineItems: lineConnection }).nullable() });
