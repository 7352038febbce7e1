/** The simulator's waits, all ended at once when it closes, so that none keeps a process alive. */
export interface Timers {
  /** Resolves after `ms`, or at once when the simulator closes. */
  readonly sleep: (ms: number) => Promise<void>
  /** Runs `f` after `ms`, unless the simulator closes first. */
  readonly later: (ms: number, f: () => void) => void
  /** Ends every wait. */
  readonly clear: () => void
}

export const makeTimers = (): Timers => {
  const pending = new Map<ReturnType<typeof setTimeout>, () => void>()
  const later = (ms: number, f: () => void, onClear: () => void = () => {}) => {
    const timer = setTimeout(() => {
      pending.delete(timer)
      f()
    }, ms)
    pending.set(timer, onClear)
  }
  return {
    sleep: (ms) => new Promise<void>((resolve) => later(ms, resolve, resolve)),
    later: (ms, f) => later(ms, f),
    clear: () => {
      for (const [timer, onClear] of pending) {
        clearTimeout(timer)
        onClear()
      }
      pending.clear()
    }
  }
}
