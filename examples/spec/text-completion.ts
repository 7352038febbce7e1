// The spec's "Text Completion" sample. Changed: the import, and the key (and NOVELAI_BASE_URL) from the environment.
import { NovelAI } from 'effect-novelai';

const client = new NovelAI({ apiKey: process.env.NOVELAI_API_KEY });

// First get available models
const models = await client.openai.listModels();
const model = models[0].id; // e.g. 'glm-4-6'

const response = await client.openai.completion({
  prompt: 'Once upon a time, in a kingdom far away,',
  model,
  maxTokens: 100,
  temperature: 0.7,
});

console.log(response.choices[0].text);
