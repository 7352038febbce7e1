// The spec's "Chat Completion" sample. Changed: the import, and the key (and NOVELAI_BASE_URL) from the environment.
import { NovelAI } from 'effect-novelai';

const client = new NovelAI({ apiKey: process.env.NOVELAI_API_KEY });

const response = await client.openai.chatCompletion({
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Hello! How are you?' },
  ],
  model: 'glm-4-6',
  maxTokens: 100,
});

console.log(response.choices[0].message.content);
