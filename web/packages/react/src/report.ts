/** Reports an error thrown by app code without stopping the caller. */
export function report(e: unknown): void {
  const r = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof r === 'function') r(e);
  else console.error(e);
}
