/**
 * The relay to a central ERP: one row per event to relay, written with the event, with its delivery state.
 * Frozen in time: plain SQL, nothing of the app.
 */
export const sql = `
  CREATE TABLE fleet_relay (
    msg_id          text PRIMARY KEY REFERENCES fleet_events (msg_id),
    stream_seq      bigint NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'rejected')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    delivered_at    timestamptz
  );
  CREATE INDEX fleet_relay_due ON fleet_relay (stream_seq) WHERE state = 'pending';
`;
