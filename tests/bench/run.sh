#!/usr/bin/env bash
# `make bench`: Go micro-benchmarks plus one end-to-end benchmark script per
# module (tests/bench/<module>.sh), each printing a short report. Everything
# is collected in build/bench/report.md. Set BENCH=enroll,image to run some.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=build/bench
mkdir -p "$out"
report="$out/report.md"
{
  echo "# metalkit.baremetal benchmark report"
  echo
  echo "$(date -u +%FT%TZ) on $(nproc) cores, $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "## Go benchmarks (go test -bench . -benchmem -run '^$' ./...)"
  echo '```'
  go test -bench . -benchmem -run '^$' ./... 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' 
  echo '```'
} | tee "$report"
status=0
for script in tests/bench/*.sh; do
  name=$(basename "$script" .sh)
  [ "$name" = run ] && continue
  if [ -n "${BENCH:-}" ] && [[ ",$BENCH," != *",$name,"* ]]; then continue; fi
  { echo; echo "## $name ($script)"; echo '```'; } | tee -a "$report"
  bash "$script" 2>&1 | tee -a "$report" || status=1
  echo '```' | tee -a "$report"
done
echo "report: $report"
exit $status
