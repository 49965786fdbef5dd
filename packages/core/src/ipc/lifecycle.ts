/**
 * Primary → worker: stop taking new work. Keep accepting for `acceptForMs` (the
 * shutdown delay), then close the listeners, let in-flight work finish and exit.
 * The primary enforces its own deadline; the worker does not need to.
 */
export interface Drain {
  readonly kind: 'drain';
  readonly acceptForMs: number;
}

/** Worker → primary: nothing left in flight; about to exit. */
export interface Drained {
  readonly kind: 'drained';
}

/**
 * Worker → primary: listening for messages now. The primary sends the configuration
 * only after this: a message sent before the worker's modules have loaded would be lost.
 */
export interface Hello {
  readonly kind: 'hello';
}
