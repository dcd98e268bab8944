/**
 * Label children bound once per label value, at most `max` values: a run
 * names its agent or model, and the metric's child for it is looked up in a
 * Map (no label object, no key string built per call, as `counter.inc({..})`
 * would). Past `max` distinct values, every new one shares the `other`
 * child, so a workspace creating agents by the thousand cannot blow up the
 * number of series Prometheus keeps.
 */
export class BoundedChildren<T> {
  private readonly children = new Map<string, T>();
  private overflow: T | undefined;

  constructor(
    private readonly max: number,
    private readonly bind: (value: string) => T,
  ) {}

  get(value: string): T {
    const child = this.children.get(value);
    if (child !== undefined) return child;
    if (this.children.size >= this.max) return (this.overflow ??= this.bind(OTHER));
    const bound = this.bind(value);
    this.children.set(value, bound);
    return bound;
  }
}

/** The label value shared by the values past a metric's cap. */
export const OTHER = "other";
