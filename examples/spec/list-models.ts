// The spec's "List Models" sample. Changed: the import, and the key (and NOVELAI_BASE_URL) from the environment.
import { NovelAI } from 'effect-novelai';

const client = new NovelAI({ apiKey: process.env.NOVELAI_API_KEY });

const models = await client.openai.listModels();

for (const model of models) {
  console.log(`${model.id} (owned by ${model.owned_by})`);
}
