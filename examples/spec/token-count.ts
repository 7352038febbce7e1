// The spec's "Token Count" sample. Changed: the import, and the key (and NOVELAI_BASE_URL) from the environment.
import { NovelAI } from 'effect-novelai';

const client = new NovelAI({ apiKey: process.env.NOVELAI_API_KEY });

const count = await client.openai.tokenCount({
  prompt: 'Hello, world! This is a test.',
  model: 'llama-3-erato-v1',
});

console.log(`Token count: ${count}`);
