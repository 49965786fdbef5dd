/**
 * One number the data plane updates. The hot path touches only this: no label
 * validation, no label hashing, no allocation (prom-client's `labels(...)` children
 * re-validate and re-hash their labels on every `inc`, which is what this avoids).
 */
export class Cell {
  value = 0;

  inc(n = 1): void {
    this.value += n;
  }

  dec(n = 1): void {
    this.value -= n;
  }
}
