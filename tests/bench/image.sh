#!/usr/bin/env bash
# glance_rhcos end to end: a gzip'd qcow2 of $BENCH_IMAGE_MIB MiB (default
# 1024) uncompressed, served on 127.0.0.1, into the local Glance (cloud
# `local`), by
#   (a) our module (build/bin/glance_rhcos, one streaming pass), and
#   (b) the classic pipeline: curl -o x.gz && gunzip x.gz && openstack image create --file x
# Reports wall time, peak RSS and bytes written to local disk by the client
# side (/usr/bin/time: max RSS, file system outputs). Needs the services
# (tests/services/up.sh glance) and `make build`. Cleans up its images.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
mib=${BENCH_IMAGE_MIB:-1024}
dir=$root/build/bench/image
mkdir -p "$dir"
export OS_CLIENT_CONFIG_FILE=$root/build/services/clouds.yaml OS_CLOUD=local
[ -x build/bin/glance_rhcos ] || make -s build
curl -sf -o /dev/null http://127.0.0.1:9292/ || [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9292/)" = 300 ] ||
  { echo "image bench: Glance is not up on 127.0.0.1:9292 (tests/services/up.sh glance)"; exit 1; }

src=$dir/rhcos-$mib.qcow2
if [ ! -s "$src.gz" ]; then
  echo "making a ${mib} MiB qcow2 fixture (once, cached in $dir)"
  tests/fixtures/image/make-qcow2.sh "$src" "$mib" "$mib"
  gzip -1 -f "$src"
fi
gz_size=$(stat -c %s "$src.gz")

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dir" >/dev/null 2>&1 &
server=$!
work=$(mktemp -d "$dir/pipeline.XXXXXX")
name=glance_rhcos-bench-$$
cleanup() {
  kill "$server" 2>/dev/null || true
  rm -rf "$work"
  for id in $(openstack image list --name "$name" -f value -c ID 2>/dev/null); do openstack image delete "$id" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
for _ in $(seq 50); do curl -sf -o /dev/null -I "http://127.0.0.1:$port/" && break; sleep 0.1; done
url=http://127.0.0.1:$port/$(basename "$src").gz

# /usr/bin/time format: wall seconds, max RSS KiB, file system output blocks (512 B)
tfmt='%e %M %O'

echo "source: $(basename "$src").gz, $((gz_size >> 20)) MiB gzip'd, ${mib} MiB uncompressed, on 127.0.0.1"
args=$work/args.json
printf '{"name": "%s", "url": "%s", "cloud": "local", "force": true}\n' "$name-module" "$url" > "$args"
# stdout through a pipe: the JSON result is not a disk write of the module
/usr/bin/time -f "$tfmt" -o "$work/t.module" build/bin/glance_rhcos "$args" | cat > "$work/module.json"
read -r m_wall m_rss m_out < "$work/t.module"
/usr/bin/python3 - "$work/module.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r.get("failed"):
    sys.exit("module failed: " + r.get("msg", ""))
t = r["transfer"]
print(f"module: transfer {t['seconds']} s, {t['mb_per_s']} MB/s uncompressed, peak RSS (VmHWM) {t['peak_rss_bytes'] / 2**20:.1f} MiB, os_hash_value == image_sha512: {r['image']['os_hash_value'] == t['image_sha512']}")
PY
openstack image delete "$name-module" >/dev/null

cd "$work"
: > t.pipe
/usr/bin/time -f "$tfmt" -a -o t.pipe curl -sf -o x.qcow2.gz "$url"
/usr/bin/time -f "$tfmt" -a -o t.pipe gunzip x.qcow2.gz
/usr/bin/time -f "$tfmt" -a -o t.pipe openstack image create --disk-format qcow2 --container-format bare --file x.qcow2 "$name-cli" -f value -c id >/dev/null
disk_files=$(stat -c %s x.qcow2)
cd "$root"
echo "pipeline steps (wall s, max RSS KiB, output blocks): $(paste -sd';' "$work/t.pipe")"
read -r p_wall p_rss p_out < <(awk '{w+=$1; if ($2>r) r=$2; o+=$3} END {print w, r, o}' "$work/t.pipe")
openstack image delete "$name-cli" >/dev/null

printf '%-34s %10s %14s %22s\n' "" "wall s" "peak RSS MiB" "local disk writes MiB"
printf '%-34s %10.2f %14.1f %22.1f\n' "glance_rhcos (one pass)" "$m_wall" "$(echo "$m_rss/1024" | bc -l)" "$(echo "$m_out*512/1048576" | bc -l)"
printf '%-34s %10.2f %14.1f %22.1f\n' "curl + gunzip + openstack CLI" "$p_wall" "$(echo "$p_rss/1024" | bc -l)" "$(echo "$p_out*512/1048576" | bc -l)"
echo "pipeline files on disk at the end: $((disk_files >> 20)) MiB (x.qcow2; x.qcow2.gz was $((gz_size >> 20)) MiB)"
fast=$(echo "$m_wall < $p_wall" | bc -l); small=$(( m_rss < 65536 )); nodisk=$(( m_out == 0 ))
echo "targets: faster than the pipeline: $([ "$fast" = 1 ] && echo yes || echo NO); peak RSS < 64 MiB: $([ $small = 1 ] && echo yes || echo NO); zero local disk writes: $([ $nodisk = 1 ] && echo yes || echo NO)"
[ "$fast" = 1 ] && [ $small = 1 ] && [ $nodisk = 1 ]
