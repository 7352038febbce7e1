/**
 * Llama 3's tokenizer (Erato's), loaded on first use from the optional peer `llama3-tokenizer-js`
 * (3 MB of vocabulary: never loaded by a program that does not tokenize). Chosen by the package's
 * `#llama3` import conditions: browsers and edge workers get `llama3.browser.ts`, which names no
 * package, so a bundle never includes the vocabulary unless the app passes it in itself.
 */

// Named through a variable so that no bundler (esbuild, webpack, Vite) pulls the vocabulary into a
// server bundle that never tokenizes: it is resolved at run time, from node_modules, when needed.
const PACKAGE = "llama3-tokenizer-js"

export const loadLlama3: (() => Promise<unknown>) | undefined = () =>
  import(/* webpackIgnore: true */ /* @vite-ignore */ PACKAGE)
