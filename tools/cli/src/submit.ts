// npm run submit -- <image file> [--model ocr-en] [--url http://127.0.0.1:8080] [--tenant dev] [--wait 120]
// Mints a dev token, submits the image, waits for the job and prints the text lines.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { devToken } from './dev-token';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string', default: 'ocr-en' },
    url: { type: 'string', default: process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:8080' },
    tenant: { type: 'string', default: 'dev' },
    wait: { type: 'string', default: '120' },
  },
});
const file = positionals[0];
if (!file) {
  console.error('usage: npm run submit -- <image file> [--model ocr-en] [--url http://127.0.0.1:8080] [--tenant dev]');
  process.exit(2);
}
const headers = { authorization: `Bearer ${await devToken(values.tenant)}`, 'content-type': 'application/json' };
const submitted = await fetch(`${values.url}/v1/jobs`, {
  method: 'POST',
  headers,
  body: JSON.stringify({ model: values.model, input: { image: readFileSync(file).toString('base64') } }),
}).catch(() => {
  console.error(`cannot reach the gateway at ${values.url}: is \`npm start\` running?`);
  process.exit(1);
});
const job = (await submitted.json()) as { id: string; status: string; code?: string; detail?: string };
if (!submitted.ok) {
  console.error(`submit failed: ${submitted.status} ${job.code}: ${job.detail}`);
  process.exit(1);
}
console.error(`job ${job.id} ${job.status}`);
const until = Date.now() + Number(values.wait) * 1000;
let current: { status: string; result?: { lines?: { text: string; confidence: number }[] }; error?: { code: string; message: string } } =
  job;
while (!['succeeded', 'failed', 'cancelled', 'expired'].includes(current.status) && Date.now() < until) {
  const res = await fetch(`${values.url}/v1/jobs/${job.id}?wait=30`, { headers });
  current = (await res.json()) as typeof current;
}
console.error(`job ${job.id} ${current.status}`);
if (current.status !== 'succeeded') {
  console.error(current.error ? `${current.error.code}: ${current.error.message}` : 'the job did not finish in time');
  process.exit(1);
}
for (const line of current.result?.lines ?? []) console.log(line.text);
