/** Kept equal to package.json's version (a test checks it); sent in the default User-Agent. */
export const VERSION = "0.1.0"
