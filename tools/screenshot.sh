#!/usr/bin/env bash
# Screenshots of the cockpit and GraphiQL for the docs: starts the demo, renders
# both pages in headless Chromium, writes cockpit.png and graphiql.png here.
# Needs Debian's chromium (and fonts-noto-cjk for Chinese text).
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
data=$(mktemp -d)
./bin/fengqiao demo -addr 127.0.0.1:18090 -data "$data" >/dev/null 2>&1 &
demo=$!
trap 'kill $demo; rm -rf "$data"' EXIT
for _ in $(seq 60); do curl -sf http://127.0.0.1:18090/healthz >/dev/null && break; sleep 1; done
token=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['county'])" "$data/demo-tokens.json")
for page in cockpit graphiql; do
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$(mktemp -d)" --window-size=1500,1100 \
    --virtual-time-budget=10000 --screenshot="$PWD/$page.png" "http://127.0.0.1:18090/$page#token=$token" 2>/dev/null
done
echo "wrote cockpit.png and graphiql.png"
