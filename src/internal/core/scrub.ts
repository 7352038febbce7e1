/**
 * Removing the API key from what a server says before it reaches an error, a log or a span: the key
 * as given, in any case, without its `pst-` prefix, percent-encoded, and in base64 (alone, as
 * `Bearer <key>`, or inside a longer base64 text at any alignment, in both base64 alphabets).
 */

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * The base64 characters that depend only on `key`, wherever it sits in a longer text encoded at
 * once: one run per alignment (the key starting at byte 0, 1 or 2 of a 3-byte group).
 */
const base64Runs = (key: string): Array<string> => {
  const runs: Array<string> = []
  for (const offset of [0, 1, 2]) {
    const encoded = btoa("\0".repeat(offset) + key)
    const start = Math.ceil((8 * offset) / 6)
    const end = Math.floor((8 * (offset + key.length)) / 6)
    runs.push(encoded.slice(start, end))
  }
  return runs
}

/** The scrubber of `secret`; a key too short to tell from text is left alone. */
export const makeScrub = (secret: string): ((text: string) => string) => {
  if (secret.length < 4 || /[^\x20-\x7e]/.test(secret)) {
    return secret.length >= 4 ? (text) => text.split(secret).join("[redacted]") : (text) => text
  }
  const bare = secret.toLowerCase().startsWith("pst-") ? secret.slice(4) : secret
  // Case-insensitive forms: the key, its bare part (when long enough to be no ordinary word), the
  // key percent-encoded.
  const plain = [secret, encodeURIComponent(secret), ...(bare.length >= 12 ? [bare] : [])]
  // Base64 forms, case-sensitive: runs of the key and of `Bearer <key>`, in base64 and base64url.
  const encoded = [...base64Runs(secret), ...base64Runs(`Bearer ${secret}`), ...base64Runs(bare)]
    .filter((run) => run.length >= 12)
    .flatMap((run) => [run, run.replace(/\+/g, "-").replace(/\//g, "_")])
  const insensitive = new RegExp([...new Set(plain)].map(escapeRegExp).join("|"), "gi")
  const sensitive = new RegExp([...new Set(encoded)].map(escapeRegExp).join("|"), "g")
  return (text) => text.replace(insensitive, "[redacted]").replace(sensitive, "[redacted]")
}
