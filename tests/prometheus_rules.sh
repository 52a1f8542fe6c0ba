#!/usr/bin/env bash
# The alert rules (tools/prometheus/vepad-alerts.yml) are valid and fire as their
# unit tests say (promtool test rules); the Grafana dashboard is JSON.
set -euo pipefail
dir=$(dirname "$0")/../tools
command -v promtool >/dev/null || { echo "SKIP: no promtool (apt: prometheus)"; exit 77; }
promtool check rules "$dir/prometheus/vepad-alerts.yml"
cd "$dir/prometheus" && promtool test rules vepad-alerts.test.yml
/usr/bin/python3 -m json.tool "$dir/grafana/vepad-dashboard.json" >/dev/null && echo "vepad-dashboard.json: valid JSON"
