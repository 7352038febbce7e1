/** What the native API gets for what a generation does not say, as NovelAI's site sends it. */

/** The `maxLength` a generation naming none gets. */
export const DEFAULT_MAX_LENGTH = 40
