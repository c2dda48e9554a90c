// The baseline for the gateway's submit rate: bare Fastify answering a POST with a small JSON, in its own process.
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
app.post('/hello', async () => ({ hello: 'world' }));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(JSON.stringify({ msg: 'hello listening', port: typeof address === 'object' && address ? address.port : 0 }) + '\n');
