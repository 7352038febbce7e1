/**
 * Browsers and edge workers: no default Llama 3 tokenizer, so a bundle never carries its 3 MB
 * vocabulary unbidden. An app that tokenizes passes its own loader in the client's `tokenizers`
 * option, `() => import("llama3-tokenizer-js")`, which its bundler splits into a chunk of its own.
 */
export const loadLlama3: (() => Promise<unknown>) | undefined = undefined
