import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';
import type { RpcInput, RpcName, RpcOutput } from '../../../shared/rpc.js';
import { call } from '../api/client.js';
import { messageOf } from '../api/message-of.js';

/** What a component reads from {@link useRpc}. */
export type RpcState<N extends RpcName> = Readonly<{
  /** The answer for the current input, or null before it (a reload keeps the last answer until the next). */
  data: RpcOutput<N> | null;
  /** The last failure for the current input as a sentence for the user, or null once a call succeeds. */
  error: string | null;
  /** Whether a call for the current input is under way. */
  isLoading: boolean;
  /**
   * Calls again with the current input (after an action changed what it answers); settles when it is answered.
   * One kept from a render of an older input does nothing.
   */
  reload: () => Promise<void>;
  /**
   * Replaces the data by what an action answered (a run that returns the fresh report): it clears the error,
   * and a call still under way is dropped, since its answer is older than this one. One kept from a render of
   * an older input does nothing.
   */
  setData: (update: (data: RpcOutput<N> | null) => RpcOutput<N>) => void;
}>;

type Answer<N extends RpcName> = {
  /** The name and input that `data` and `error` belong to. */
  key: string;
  data: RpcOutput<N> | null;
  error: string | null;
  isLoading: boolean;
};

/**
 * Loads one route of the agent's contract for a component: it calls when the component mounts, again when the
 * input changes (compared by value, so an object literal is fine) or one of `deps` changes, and on `reload()`.
 * A null input calls nothing. An answer for an older call never overwrites a newer one, and nothing is set
 * once the component is gone.
 *
 * @example
 * const tick = useLive((s) => s.snapshot?.at ?? 0);
 * const { data, error, reload } = useRpc('mappings.list', { destination }, [tick]);
 */
export function useRpc<N extends RpcName>(
  name: N,
  input: RpcInput<N> | null,
  deps: DependencyList = [],
): RpcState<N> {
  const key = input === null ? null : JSON.stringify([name, input]);
  const [answer, setAnswer] = useState<Answer<N> | null>(null);
  // Each call takes the next number; only the newest may set state.
  const newest = useRef(0);
  // The input now on screen, so that a `reload` or `setData` kept from a render of an older input does nothing.
  // Declared before the effect that loads, so it is current when that effect runs.
  const currentKey = useRef(key);
  useEffect(() => {
    currentKey.current = key;
  }, [key]);

  // `key` stands for `name` and `input`: equal keys mean equal inputs, so the input of any render will do.
  const load = useCallback(async () => {
    if (key === null || input === null || key !== currentKey.current) return;
    const id = (newest.current += 1);
    setAnswer((a) =>
      a?.key === key ? { ...a, isLoading: true } : { key, data: null, error: null, isLoading: true },
    );
    try {
      const data = await call(name, input);
      if (id === newest.current) setAnswer({ key, data, error: null, isLoading: false });
    } catch (error) {
      if (id !== newest.current) return;
      setAnswer((a) => ({
        key,
        data: a?.key === key ? a.data : null,
        error: messageOf(error),
        isLoading: false,
      }));
    }
  }, [key]);

  useEffect(() => {
    void load();
    return () => {
      // The input changed or the component is gone: whatever is under way answers an old question.
      newest.current += 1;
    };
  }, [load, ...deps]);

  const setData = useCallback(
    (update: (data: RpcOutput<N> | null) => RpcOutput<N>) => {
      if (key === null || key !== currentKey.current) return;
      newest.current += 1;
      setAnswer((a) => ({
        key,
        data: update(a?.key === key ? a.data : null),
        error: null,
        isLoading: false,
      }));
    },
    [key],
  );

  // An answer for another input is not this input's: it reads as "not loaded yet" from the first render on.
  const isCurrent = key !== null && answer?.key === key;
  return {
    data: isCurrent ? answer.data : null,
    error: isCurrent ? answer.error : null,
    isLoading: key !== null && (!isCurrent || answer.isLoading),
    reload: load,
    setData,
  };
}
