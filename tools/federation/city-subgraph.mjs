// A small city subgraph: the city's assessment (市级考核) of the towns of a county,
// keyed by the hub's own OrgUnit code. It extends the hub's OrgUnit with the
// city's score and starts the city's ranking, whose units the gateway then fetches
// from the hub through _entities, with the caller's token.
import http from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';

export const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  "The city's view of a unit of a county hub's tree, by its statistical division code."
  type OrgUnit @key(fields: "code") {
    code: ID!
    "市级考核得分, 0 to 100; null for a unit the city does not assess."
    cityScore: Float
  }

  "One town's place in the city's assessment."
  type TownScore {
    rank: Int!
    score: Float!
    "The town as the county hub has it; null when the caller's token may not see it."
    orgUnit: OrgUnit
  }

  type Query {
    "The towns the city assesses, best first."
    townRanking: [TownScore!]!
  }
`);

// scores are the city's figures for towns of 温岭市 (泽国镇, 大溪镇, 松门镇).
export const scores = new Map([
  ['331081100', 92.5],
  ['331081101', 88],
  ['331081102', 85.5],
]);

const resolvers = {
  Query: {
    townRanking: () =>
      [...scores].sort((a, b) => b[1] - a[1]).map(([code, score], i) => ({ rank: i + 1, score, orgUnit: { code } })),
  },
  OrgUnit: {
    __resolveReference: ({ code }) => ({ code }),
    cityScore: ({ code }) => scores.get(code) ?? null,
  },
};

const schema = buildSubgraphSchema([{ typeDefs, resolvers }]);

// startCitySubgraph serves the subgraph at http://host:port/graphql (port 0: any
// free port) and resolves to its URL and server.
export function startCitySubgraph(port = 0, host = '127.0.0.1') {
  const server = http.createServer(async (req, res) => {
    if (req.method !== 'POST' || new URL(req.url, 'http://x').pathname !== '/graphql') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    for await (const chunk of req) body += chunk;
    let result;
    try {
      const { query, variables, operationName } = JSON.parse(body);
      result = await graphql({ schema, source: query, variableValues: variables, operationName });
    } catch (err) {
      result = { errors: [{ message: String(err.message ?? err) }] };
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ url: `http://${host}:${server.address().port}/graphql`, server }));
  });
}
