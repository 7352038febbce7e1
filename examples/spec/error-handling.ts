// The spec's "Error Handling" sample. Changed: the import, and the key (and NOVELAI_BASE_URL) from the environment.
import {
  NovelAI,
  AuthenticationError,
  InvalidRequestError,
  RateLimitError
} from 'effect-novelai';

const client = new NovelAI({ apiKey: process.env.NOVELAI_API_KEY });

try {
  const response = await client.openai.chatCompletion({
    messages: [{ role: 'user', content: 'Hello' }],
  });
} catch (error) {
  if (error instanceof AuthenticationError) {
    console.error('Invalid API Key');
  } else if (error instanceof InvalidRequestError) {
    console.error('Invalid request parameters:', error.message);
  } else if (error instanceof RateLimitError) {
    console.error('Rate limit exceeded');
  }
}
