export const median = (values: ReadonlyArray<number>): number => quantile(values, 0.5)

export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo)
}

/** Rotates the order each round so drift and warm caches hit every contender alike. */
export const rotate = <A>(items: ReadonlyArray<A>, round: number): Array<A> => {
  const k = round % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}
