// Runs a city's graph over a live county hub, with published tools only:
//
//   node run.mjs --hub http://127.0.0.1:8080/graphql --token <bearer token> [--port 4000] [--supergraph out.graphql] [--until-stdin-closes]
//
// It reads the hub's subgraph schema from its _service { sdl } (with the token),
// starts the small city subgraph (city-subgraph.mjs), composes the two with The
// Guild's federation composition, and serves the supergraph with Hive Gateway's
// runtime configured by gateway.config.mjs. When the gateway listens it prints one
// JSON line, {"gateway": url, "city": url}, and serves until stopped (SIGTERM,
// SIGINT, or with --until-stdin-closes its standard input closing: a test that
// started it and died takes it along). Errors go to standard error, exit 1.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { startCitySubgraph, typeDefs as cityTypeDefs } from './city-subgraph.mjs';
import { gatewayConfig } from './gateway.config.mjs';

const { values: opts } = parseArgs({
  options: {
    hub: { type: 'string' },
    token: { type: 'string' },
    port: { type: 'string', default: '0' },
    supergraph: { type: 'string' },
    'until-stdin-closes': { type: 'boolean', default: false },
  },
});
if (!opts.hub || !opts.token) {
  console.error('用法：node run.mjs --hub <枢纽的 /graphql 地址> --token <令牌> [--port 端口] [--supergraph 输出文件]');
  process.exit(2);
}

// hubSDL reads the hub's subgraph schema; like every query it needs a token.
async function hubSDL() {
  const res = await fetch(opts.hub, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token}` },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || body.errors || !body.data?._service?.sdl) {
    throw new Error(`读取枢纽的子图模式失败（HTTP ${res.status}）：${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data._service.sdl;
}

try {
  const city = await startCitySubgraph();
  const composed = composeServices([
    { name: 'hub', typeDefs: parse(await hubSDL()), url: opts.hub },
    { name: 'city', typeDefs: cityTypeDefs, url: city.url },
  ]);
  if (composed.errors?.length) {
    throw new Error('组合超图失败：\n' + composed.errors.map((e) => e.message).join('\n'));
  }
  if (opts.supergraph) writeFileSync(opts.supergraph, composed.supergraphSdl);

  const gateway = createGatewayRuntime({ ...gatewayConfig, supergraph: composed.supergraphSdl, logging: 'error' });
  const server = http.createServer(gateway);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(opts.port), '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}/graphql`;
  console.log(JSON.stringify({ gateway: url, city: city.url }));

  const stop = () => {
    server.close();
    city.server.close();
    gateway.dispose?.();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (opts['until-stdin-closes']) {
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
} catch (err) {
  console.error(err.message ?? err);
  process.exit(1);
}
