import { z } from 'zod';
import { destinationSchema, secretSchema } from './config.js';
import { OPERATOR_ROLES } from './operator-roles.js';

const name = (what: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, `must be a ${what} of letters, digits, "_" and "-"`);

/**
 * The config file of `backroom fleet serve` (the central fleet service): where the NATS cluster is, which
 * stream and bucket it reads, the PostgreSQL it stores into, and who may open the fleet view. Unknown keys are
 * errors, each named by its path, as in the agent's config.
 */
export const fleetConfigSchema = z.strictObject({
  nats: z.strictObject({
    /** The cluster's URLs; the client fails over among them. */
    servers: z.array(z.string().min(1)).min(1),
    user: z.string().min(1).optional(),
    password: secretSchema.optional(),
    token: secretSchema.optional(),
    /** The content of a `.creds` file, usually `{ "file": "fleet.creds" }`. */
    credentials: secretSchema.optional(),
    tls: z
      .strictObject({
        ca: secretSchema.optional(),
        cert: secretSchema.optional(),
        key: secretSchema.optional(),
      })
      .optional(),
  }),
  /** The stream the stores' `nats` destinations publish to, and their subject prefix. */
  stream: name('stream name').default('BACKROOM'),
  subject: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be a plain subject like "backroom.events"')
    .default('backroom.events'),
  /** The durable pull consumer every instance of the service shares (the work is split among them). */
  durable: name('consumer name').default('fleet'),
  /** The status bucket the agents report to (the `fleet.bucket` of their configs). */
  bucket: name('bucket name').default('BACKROOM_STATUS'),
  /**
   * Replicas of the stream, the bucket and the consumer when the service creates them (3 in a 3-node cluster,
   * so a node's loss loses nothing; 1 on a single server). Existing ones are used as they are.
   */
  replicas: z.number().int().min(1).max(5).default(3),
  /** Reports kept per store in the bucket's stream. */
  historyPerStore: z.number().int().min(1).max(64).default(64),
  /** How long JetStream waits for the service's ack before it redelivers a message to an instance. */
  ackWaitSeconds: z.number().min(1).max(3600).default(30),
  /** Messages stored per PostgreSQL transaction. */
  batchSize: z.number().int().min(1).max(5000).default(500),
  postgres: z.strictObject({
    /** A libpq connection string, e.g. `postgresql://fleet@db.central/fleet`; the password may come apart. */
    connectionString: z.string().min(1),
    password: secretSchema.optional(),
    /** Connections in the pool. */
    poolSize: z.number().int().min(2).max(100).default(8),
  }),
  listen: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(7480),
    })
    .default({ host: '127.0.0.1', port: 7480 }),
  /** Days of status history (the store page's trend) and of refused messages kept; older ones are pruned hourly. */
  historyDays: z.number().int().min(1).max(3650).default(30),
  /** A store is flagged stale after this long without a report. */
  staleSeconds: z.number().int().min(5).max(86_400).default(120),
  /**
   * Relays every movement of the fleet to a central ERP, through the same connector a store would use, under one
   * rate limit for the whole tenant (however many stores and service instances). Only `webhook` destinations
   * for now (an ERP's import endpoint): the ERP connectors need identifier mappings, which head office does not
   * keep yet. Events stored before the relay was configured are not relayed.
   */
  relay: z
    .strictObject({
      destination: destinationSchema.refine((d) => d.type === 'webhook', {
        message: 'the relay sends to a "webhook" destination (an ERP import endpoint) only',
        path: ['type'],
      }),
      /** The ERP's limit for the whole tenant: requests per second (one instance relays at a time). */
      requestsPerSecond: z.number().positive().max(10_000),
    })
    .optional(),
  /** People who may open the fleet view, with their tokens and roles (as the store UI's operators). */
  operators: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(100),
        token: secretSchema,
        role: z.enum(OPERATOR_ROLES).default('admin'),
      }),
    )
    .default([]),
});
export type FleetConfig = z.output<typeof fleetConfigSchema>;
