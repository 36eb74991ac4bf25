// Copies the browser builds of the front-end packages into dist/, which the Go
// gateway embeds. Run by `npm run build` (the Makefile's assets target).
import { copyFileSync, mkdirSync } from "node:fs";

const files = {
  "react.production.min.js": "node_modules/react/umd/react.production.min.js",
  "react-dom.production.min.js": "node_modules/react-dom/umd/react-dom.production.min.js",
  "graphiql.min.js": "node_modules/graphiql/graphiql.min.js",
  "graphiql.min.css": "node_modules/graphiql/graphiql.min.css",
  "echarts.min.js": "node_modules/echarts/dist/echarts.min.js",
};

mkdirSync("dist", { recursive: true });
for (const [name, from] of Object.entries(files)) {
  copyFileSync(from, `dist/${name}`);
}
console.log(`copied ${Object.keys(files).length} files to dist/`);
