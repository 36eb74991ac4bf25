// Hive Gateway's configuration for a city's graph over a county hub: the caller's
// bearer token goes on to every subgraph, so the hub scopes and masks what the
// gateway fetches as it would for the caller's own query. The same object is a
// gateway.config for the hive-gateway CLI (export gatewayConfig = defineConfig({...})).
export const gatewayConfig = {
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') }),
  },
  // The hub's errors (scoping refusals, limits) reach the caller as the hub wrote them.
  maskedErrors: false,
};
