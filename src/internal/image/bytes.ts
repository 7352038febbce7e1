/**
 * Image bytes in and out: base64 both ways (Node's `Buffer` where there is one, else `atob`/`btoa`,
 * so it runs in browsers), and a PNG's size read from its header.
 */

const NodeBuffer = (
  globalThis as {
    Buffer?: {
      from(data: string, encoding: "base64"): Uint8Array
      from(data: Uint8Array): Uint8Array
      from(buffer: ArrayBufferLike, offset: number, length: number): { toString(encoding: "base64"): string }
    }
  }
).Buffer

/** Base64 text of `bytes`. */
export const toBase64 = (bytes: Uint8Array): string => {
  if (NodeBuffer !== undefined)
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")
  let binary = ""
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/** The bytes of base64 `text` (already checked to be base64). */
export const fromBase64 = (text: string): Uint8Array => {
  if (NodeBuffer !== undefined) return new Uint8Array(NodeBuffer.from(text, "base64"))
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** Base64 text without a data URL's prefix or whitespace. */
export const cleanBase64 = (text: string): string => text.replace(/^data:[^,]*,/, "").replace(/\s+/g, "")

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/** A PNG's width and height, from its IHDR chunk; undefined when `bytes` does not start as a PNG does. */
export const pngSize = (
  bytes: Uint8Array
): { readonly width: number; readonly height: number } | undefined => {
  if (bytes.length < 24 || PNG.some((b, i) => bytes[i] !== b)) return undefined
  // The IHDR chunk comes first: length (4), "IHDR" (4), then width and height, big-endian.
  if (bytes[12] !== 0x49 || bytes[13] !== 0x48 || bytes[14] !== 0x44 || bytes[15] !== 0x52) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { width: view.getUint32(16), height: view.getUint32(20) }
}

/** An image given to a call, as base64 for the wire, and its first bytes (for its size). */
export const imageOf = (
  input: Uint8Array | ArrayBuffer | string
): { readonly base64: string; readonly head: Uint8Array } => {
  if (typeof input === "string") {
    const base64 = cleanBase64(input)
    // 32 base64 characters are 24 bytes: the PNG signature and the IHDR's width and height.
    return { base64, head: fromBase64(base64.slice(0, 32)) }
  }
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input)
  return { base64: toBase64(bytes), head: bytes.subarray(0, 24) }
}
