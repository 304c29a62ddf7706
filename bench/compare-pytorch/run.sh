#!/usr/bin/env bash
# fctrain against PyTorch eager on the same job (issue 13, item 5). Not a test: a benchmark that prints what it measured.
#
#   bench/compare-pytorch/run.sh [--threads N] [--steps N] [--new-tokens N]
#
# 1. installs Debian's python3-torch and libopenblas0-pthread if missing (without OpenBLAS python3-torch runs on the
#    reference BLAS, ~15x slower), and builds the CLI and the benchmarks;
# 2. materialises the embedded tiny model (config.json + model.safetensors) and tokenizes the repository's datasets
#    into packed shards, so both sides read the same weights and the same rows;
# 3. trains one LoRA epoch over the train split, rows in shard order, in each (bench `train --shards` and
#    gemma2_lora.py train: same adapter shape, loss, clipping and AdamW, the same thread count), each in its own
#    process so its peak RSS (VmHWM) is its own. The first step's loss (before any update the adapter is a no-op, so
#    it depends only on the weights and the row) must agree to 1e-4, else the comparison is void;
# 4. decodes greedily with the KV cache from the same prompt (the first conversation of the first row) in each and
#    compares the ids;
# 5. prints the speed and peak-memory ratios (fctrain / PyTorch).
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=2 steps="" new_tokens=64
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --new-tokens) new_tokens=$2; shift 2 ;;
    *) echo "usage: $0 [--threads N] [--steps N] [--new-tokens N]" >&2; exit 2 ;;
  esac
done
python=/usr/bin/python3   # Debian's python, where python3-torch lives (a pyenv python3 on PATH would not see it)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

missing=()
dpkg -s python3-torch >/dev/null 2>&1 || missing+=(python3-torch)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || missing+=(libopenblas0-pthread)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "== installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== build"
dotnet build -c Release -nologo -v:q tools/dotnet-fctrain >/dev/null
dotnet build -c Release -nologo -v:q bench/FcTrain.Bench >/dev/null
cli=(dotnet tools/dotnet-fctrain/bin/Release/net10.0/linux-x64/dotnet-fctrain.dll)
bench=(dotnet bench/FcTrain.Bench/bin/Release/net10.0/FcTrain.Bench.dll)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${cli[@]}" tokenize --shards "$work/shards" >/dev/null
model=$("$python" - <<'PY'
import glob, os
home = os.environ.get("FCTRAIN_HOME") or os.path.expanduser("~/.cache/fctrain")
print(max(glob.glob(f"{home}/models/tiny-*/model.safetensors"), key=os.path.getmtime).rsplit("/", 1)[0])
PY
)
prompt=$("$python" - "$work/shards" <<'PY'
import sys
sys.path.insert(0, "bench/compare-pytorch")
from gemma2_lora import rows
ids, labels, positions, docs = rows(sys.argv[1])[0]
first = ids[docs == docs[0]]
# The conversation up to its first trained token: the prompt a model turn is generated from.
trained = (labels[: len(first)] != -100).nonzero()
print(",".join(map(str, first[: int(trained[0]) if len(trained) else len(first)].tolist())))
PY
)
echo "== model $model, $(uptime)"
step_args=()
[[ -n "$steps" ]] && step_args=(--steps "$steps")

run() { "$@" 2>&1 | tee "$work/last.txt" | grep -E '^(RESULT|IDS)' || { cat "$work/last.txt" >&2; exit 1; }; }
echo "== train: one LoRA epoch, $threads threads"
run "${bench[@]}" train --shards "$work/shards" --threads "$threads" "${step_args[@]}" > "$work/f-train.txt"
run "$python" bench/compare-pytorch/gemma2_lora.py train "$model" "$work/shards" --threads "$threads" "${step_args[@]}" > "$work/p-train.txt"
echo "== decode: greedy, KV cache, ${new_tokens} new tokens after a $(tr ',' '\n' <<<"$prompt" | wc -l)-token prompt"
run "${bench[@]}" decode --prompt "$prompt" --new-tokens "$new_tokens" --threads "$threads" > "$work/f-decode.txt"
run "$python" bench/compare-pytorch/gemma2_lora.py decode "$model" --prompt "$prompt" --new-tokens "$new_tokens" --threads "$threads" > "$work/p-decode.txt"
cat "$work"/f-train.txt "$work"/p-train.txt "$work"/f-decode.txt "$work"/p-decode.txt | grep RESULT

"$python" - "$work" <<'PY'
import sys
work = sys.argv[1]
def result(name):
    lines = open(f"{work}/{name}.txt").read().splitlines()
    r = dict(kv.split("=", 1) for kv in next(l for l in lines if l.startswith("RESULT")).split()[1:])
    ids = next((l[4:] for l in lines if l.startswith("IDS ")), None)
    return r, ids
(ft, _), (pt, _) = result("f-train"), result("p-train")
(fd, fids), (pd, pids) = result("f-decode"), result("p-decode")
gap = abs(float(ft["first_loss"]) - float(pt["first_loss"]))
print(f"first-step loss: fctrain {ft['first_loss']}, PyTorch {pt['first_loss']}, |difference| {gap:.2e}")
if gap > 1e-4:
    print("VOID: the first step's losses differ by more than 1e-4, so the two sides do not run the same job; no ratios.")
    sys.exit(1)
same = fids == pids
print(f"greedy ids: {'identical' if same else 'DIFFERENT'} ({len(fids.split(','))} fctrain, {len(pids.split(','))} PyTorch)")
def ratio(key, f, p): return float(f[key]) / float(p[key])
print(f"train  speed  fctrain/PyTorch: {ratio('tokens_per_s', ft, pt):.2f}x  ({ft['tokens_per_s']} vs {pt['tokens_per_s']} tokens/s)")
print(f"train  memory fctrain/PyTorch: {ratio('peak_rss_mib', ft, pt):.2f}x  ({ft['peak_rss_mib']} vs {pt['peak_rss_mib']} MiB peak RSS)")
print(f"decode speed  fctrain/PyTorch: {ratio('tokens_per_s', fd, pd):.2f}x  ({fd['tokens_per_s']} vs {pd['tokens_per_s']} tokens/s)")
print(f"decode memory fctrain/PyTorch: {ratio('peak_rss_mib', fd, pd):.2f}x  ({fd['peak_rss_mib']} vs {pd['peak_rss_mib']} MiB peak RSS)")
PY
echo "== $(uptime)"
