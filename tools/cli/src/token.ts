// npm run token -- --tenant acme [--ttl 3600]
// Prints a bearer token signed by the local issuer (DATA_DIR/auth), for the gateway on embedded defaults.
import { parseArgs } from 'node:util';
import { devToken } from './dev-token';

const { values } = parseArgs({ options: { tenant: { type: 'string' }, ttl: { type: 'string', default: '3600' } } });
if (!values.tenant || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(values.tenant)) {
  console.error('usage: npm run token -- --tenant <name> [--ttl <seconds>]');
  process.exit(2);
}
console.log(await devToken(values.tenant, Number(values.ttl)));
