/**
 * An AbortController that also aborts when any of `signals` does (with that
 * signal's reason). `release()` detaches the listeners: a long-lived caller
 * signal must not collect one listener per request. Written out rather than
 * `AbortSignal.any` because that arrived in Node 20.3 and not every runtime.
 */
export function linkedController(...signals: Array<AbortSignal | undefined>): { controller: AbortController; release: () => void } {
  const controller = new AbortController();
  const detach: Array<() => void> = [];
  for (const signal of signals) {
    if (!signal) continue;
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    detach.push(() => signal.removeEventListener("abort", onAbort));
  }
  return { controller, release: () => detach.forEach((fn) => fn()) };
}

/**
 * Settles with `promise`, or rejects with the signal's reason once it aborts,
 * so a custom `fetch` that ignores its signal cannot outlive a timeout.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The work was started already: keep its later failure from surfacing as unhandled.
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
