/**
 * The fleet's PostgreSQL schema: the stores' latest statuses and their history, every event of every store
 * (deduplicated by its Nats-Msg-Id for ever, beyond the stream's duplicate window), its lines as movements, and
 * what was refused. Frozen in time: plain SQL, nothing of the app.
 */
export const sql = `
  CREATE TABLE fleet_stores (
    agent_id               text PRIMARY KEY,
    name                   text NOT NULL,
    version                text NOT NULL,
    schema_version         integer NOT NULL,
    status_version         integer NOT NULL,
    running                boolean NOT NULL,
    reported_at            timestamptz NOT NULL,
    received_at            timestamptz NOT NULL,
    revision               bigint NOT NULL,
    worst_state            text,
    queue_depth            bigint NOT NULL,
    oldest_pending_seconds bigint,
    open_exceptions        bigint NOT NULL,
    capture_per_minute     bigint NOT NULL,
    last_event_seq         bigint NOT NULL,
    unknown_fields         text[] NOT NULL,
    status                 jsonb NOT NULL
  );

  CREATE TABLE fleet_status_history (
    agent_id               text NOT NULL,
    revision               bigint NOT NULL,
    reported_at            timestamptz NOT NULL,
    received_at            timestamptz NOT NULL,
    worst_state            text,
    queue_depth            bigint NOT NULL,
    oldest_pending_seconds bigint,
    open_exceptions        bigint NOT NULL,
    capture_per_minute     bigint NOT NULL,
    status                 jsonb NOT NULL,
    PRIMARY KEY (agent_id, revision)
  );
  CREATE INDEX fleet_status_history_by_time ON fleet_status_history (agent_id, reported_at);

  CREATE TABLE fleet_events (
    msg_id       text PRIMARY KEY,
    agent_id     text NOT NULL,
    source       text NOT NULL,
    event_id     text NOT NULL,
    seq          bigint NOT NULL,
    type         text NOT NULL,
    location     text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    stream_seq   bigint NOT NULL,
    published_at timestamptz NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    body         jsonb NOT NULL
  );
  CREATE INDEX fleet_events_by_store ON fleet_events (agent_id, seq);

  CREATE TABLE fleet_movements (
    msg_id      text NOT NULL REFERENCES fleet_events (msg_id),
    line_no     integer NOT NULL,
    agent_id    text NOT NULL,
    location    text NOT NULL,
    sku         text NOT NULL,
    qty         bigint NOT NULL,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (msg_id, line_no)
  );
  CREATE INDEX fleet_movements_by_sku ON fleet_movements (sku, location);

  CREATE TABLE fleet_rejected (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('event', 'status')),
    reason      text NOT NULL,
    subject     text NOT NULL,
    stream_seq  bigint NOT NULL,
    detail      text NOT NULL,
    body        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (kind, stream_seq)
  );
`;
