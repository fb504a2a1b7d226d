// `backroom serve` as a child of another process (the desktop app's Electron utility process, or a Node fork with
// an IPC channel) can be asked to stop by message. Windows has no SIGTERM: there, killing a process ends it at
// once, so the parent asks first and kills only after a timeout (src-main/desktop/agent-stop.ts).

/** Parent → agent: finish or release in-flight work, close the database, exit. */
export const STOP_REQUEST = { type: 'backroom:stop' } as const;
/** Agent → parent: the database is closed and the lock released; the process exits next. */
export const STOPPED_NOTICE = { type: 'backroom:stopped' } as const;

/** Whether `message` is a `{ type }` message of this protocol. */
export function isProtocolMessage(message: unknown, expected: { type: string }): boolean {
  return (
    typeof message === 'object' && message !== null && 'type' in message && message.type === expected.type
  );
}

/** The part of Electron's `process.parentPort` (a utility process's channel to its parent) used here. */
type ParentPort = {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  off(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
};

function isParentPort(value: unknown): value is ParentPort {
  return (
    typeof value === 'object' &&
    value !== null &&
    'postMessage' in value &&
    typeof value.postMessage === 'function' &&
    'on' in value &&
    typeof value.on === 'function'
  );
}

/** Electron's port to the parent when this process is a utility process; undefined under plain Node. */
function parentPort(): ParentPort | undefined {
  const port: unknown = Reflect.get(process, 'parentPort');
  return isParentPort(port) ? port : undefined;
}

/**
 * Whether this process is an Electron utility process. Such a process does not exit by itself when its event
 * loop is empty (electron/electron#47228), so the CLI calls `process.exit` there once its command is done.
 */
export function isUtilityProcess(): boolean {
  return parentPort() !== undefined;
}

export type StopRequests = Readonly<{
  /** Tells the parent the agent has stopped (database closed). Safe without a parent. */
  notifyStopped: () => void;
  /** Stops listening, so the IPC channel no longer keeps the process alive. */
  close: () => void;
}>;

/**
 * Calls `onStop` when the parent asks this process to stop, through Electron's `parentPort` or Node's IPC
 * channel; without a parent channel it listens to nothing. The agent never imports electron: the port is found
 * on `process` at run time.
 */
export function listenForStopRequests(onStop: () => void): StopRequests {
  const port = parentPort();
  if (port) {
    const listener = (event: { data: unknown }) => {
      if (isProtocolMessage(event.data, STOP_REQUEST)) onStop();
    };
    port.on('message', listener);
    return {
      notifyStopped: () => port.postMessage(STOPPED_NOTICE),
      close: () => port.off('message', listener),
    };
  }
  if (process.send !== undefined && process.connected) {
    const listener = (message: unknown) => {
      if (isProtocolMessage(message, STOP_REQUEST)) onStop();
    };
    process.on('message', listener);
    return {
      notifyStopped: () => {
        if (process.connected) process.send?.(STOPPED_NOTICE);
      },
      close: () => {
        process.off('message', listener);
      },
    };
  }
  return { notifyStopped: () => undefined, close: () => undefined };
}
