"""A small eager PyTorch Gemma-2 with PEFT-style LoRA: the reference side of bench/compare-pytorch.

It does what fctrain does on CPU, step for step (src/FcTrain/Models/Gemma2, src/FcTrain/Lora,
Trainer.ScoreBatch), so the two can be timed on the same job:
  * the model: embeddings scaled by sqrt(hidden), sandwich RMSNorms (x / rms · (1 + w), in float32), grouped-query
    attention with RoPE, scores scaled by query_pre_attn_scalar^-1/2 and soft-capped, block-diagonal causal mask
    (sliding window on even layers), float32 softmax, GeGLU MLP (tanh GELU), tied head, final soft-cap;
  * LoRA as PEFT: y = x W^T + B(A(dropout(x))) * alpha/r on every projection and the head (A Kaiming-uniform,
    B zero), embeddings e(i) = W[i] + (A^T[i] B^T) * alpha/r (A zero, B normal);
  * the loss: next-token cross-entropy summed over trained positions only, the head run on those positions in
    chunks of logits under 16 MB, divided by the number of trained positions; AdamW, gradient clipping at 1.

Usage (run by bench/compare-pytorch/run.sh, with Debian's python3-torch):
  gemma2_lora.py train  MODEL_DIR SHARDS_DIR --threads N [--lr LR] [--steps N]
  gemma2_lora.py decode MODEL_DIR --prompt 2,5,... --new-tokens N --threads N
Each prints one line `RESULT key=value ...` (and the generated ids for decode).
"""
import argparse
import json
import math
import struct
import sys
import time

import torch
import torch.nn.functional as F

IGNORE = -100
DTYPES = {"F32": torch.float32, "I32": torch.int32, "I64": torch.int64, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    """{name: tensor} from a .safetensors file: 8-byte little-endian header length, JSON header, raw data."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[start:end]), dtype=DTYPES[info["dtype"]]) if end > start else torch.empty(0, dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return -1


class LoraLinear(torch.nn.Module):
    def __init__(self, weight, r, alpha, dropout):
        super().__init__()
        self.weight = weight  # (out, in), frozen; may be shared (the tied head)
        out_f, in_f = weight.shape
        self.lora_A = torch.nn.Parameter(torch.empty(r, in_f))
        self.lora_B = torch.nn.Parameter(torch.zeros(out_f, r))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = torch.nn.Dropout(dropout)
        self.scaling = alpha / r

    def forward(self, x):
        y = F.linear(x, self.weight)
        return y + F.linear(F.linear(self.dropout(x), self.lora_A), self.lora_B) * self.scaling


class LoraEmbedding(torch.nn.Module):
    def __init__(self, weight, r, alpha):
        super().__init__()
        self.weight = weight  # (vocab, dim), frozen
        vocab, dim = weight.shape
        self.lora_A = torch.nn.Parameter(torch.zeros(r, vocab))
        self.lora_B = torch.nn.Parameter(torch.randn(dim, r))
        self.scaling = alpha / r

    def forward(self, ids):
        y = self.weight[ids]                                           # (B, T, C)
        a = self.lora_A.t()[ids]                                       # (B, T, r)
        return y + (a @ self.lora_B.t()) * self.scaling


def rms_norm(x, w, eps):
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return (h * (1.0 + w.float())).to(x.dtype)


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., half:], x[..., :half]], -1) * sin


class Gemma2Lora(torch.nn.Module):
    def __init__(self, cfg, weights, r=16, alpha=64, dropout=0.05):
        super().__init__()
        self.cfg = cfg
        frozen = {k: torch.nn.Parameter(v, requires_grad=False) for k, v in weights.items()}
        for i, (k, v) in enumerate(frozen.items()):
            self.register_parameter(f"base_{i}", v)
        self.embed = LoraEmbedding(frozen["model.embed_tokens.weight"], r, alpha)
        self.layers = torch.nn.ModuleList()
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            layer = torch.nn.Module()
            for name in ["q_proj", "k_proj", "v_proj", "o_proj"]:
                setattr(layer, name, LoraLinear(frozen[p + f"self_attn.{name}.weight"], r, alpha, dropout))
            for name in ["gate_proj", "up_proj", "down_proj"]:
                setattr(layer, name, LoraLinear(frozen[p + f"mlp.{name}.weight"], r, alpha, dropout))
            layer.norms = [frozen[p + n + ".weight"] for n in
                           ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"]]
            self.layers.append(layer)
        self.norm = frozen["model.norm.weight"]
        self.head = LoraLinear(frozen["model.embed_tokens.weight"], r, alpha, dropout)

    def trainable(self):
        return [p for p in self.parameters() if p.requires_grad]

    def masks(self, q_index, k_index, docs):
        q, k = q_index[:, None], k_index[None, :]
        allowed = k <= q
        if docs is not None:
            tq = q_index.shape[0]
            allowed = allowed[None] & (docs[:, -tq:, None] == docs[:, None, :])
        else:
            allowed = allowed[None]
        window = self.cfg.get("sliding_window")
        sliding = allowed & ((q - k) < window)[None] if window else allowed
        return allowed[:, None], sliding[:, None]                     # (B|1, 1, Tq, Tk)

    def attention(self, layer, x, cos, sin, mask, cache, index):
        c = self.cfg
        b, t, _ = x.shape
        h, kv, d = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        q = layer.q_proj(x).view(b, t, h, d).transpose(1, 2)
        k = layer.k_proj(x).view(b, t, kv, d).transpose(1, 2)
        v = layer.v_proj(x).view(b, t, kv, d).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if cache is not None:
            if index in cache:
                k = torch.cat([cache[index][0], k], 2)
                v = torch.cat([cache[index][1], v], 2)
            cache[index] = (k, v)
        k = k.repeat_interleave(h // kv, dim=1)
        v = v.repeat_interleave(h // kv, dim=1)
        scores = (q @ k.transpose(2, 3)) * c["query_pre_attn_scalar"] ** -0.5
        cap = c.get("attn_logit_softcapping")
        if cap:
            scores = torch.tanh(scores / cap) * cap
        scores = scores.masked_fill(~mask, float("-inf"))
        probs = torch.softmax(scores, -1, dtype=torch.float32).to(q.dtype)
        y = (probs @ v).transpose(1, 2).reshape(b, t, h * d)
        return layer.o_proj(y)

    def hidden(self, ids, positions, docs=None, cache=None, past=0):
        c = self.cfg
        eps = c["rms_norm_eps"]
        x = self.embed(ids)
        x = x * torch.tensor(math.sqrt(c["hidden_size"]), dtype=x.dtype)
        d = c["head_dim"]
        inv = 1.0 / torch.pow(c.get("rope_theta", 10000.0), torch.arange(0, d, 2).float() / d)
        freqs = positions.float()[..., None] * inv
        angles = torch.cat([freqs, freqs], -1)[:, None]
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        t = ids.shape[1]
        full, sliding = self.masks(torch.arange(past, past + t), torch.arange(0, past + t), docs)
        for i, layer in enumerate(self.layers):
            mask = sliding if (c.get("sliding_window") and i % 2 == 0) else full
            n = layer.norms
            hdn = self.attention(layer, rms_norm(x, n[0], eps), cos, sin, mask, cache, i)
            x = x + rms_norm(hdn, n[1], eps)
            m = rms_norm(x, n[2], eps)
            hdn = layer.down_proj(F.gelu(layer.gate_proj(m), approximate="tanh") * layer.up_proj(m))
            x = x + rms_norm(hdn, n[3], eps)
        return rms_norm(x, self.norm, eps)

    def logits(self, h):
        y = self.head(h)
        cap = self.cfg.get("final_logit_softcapping")
        return torch.tanh(y / cap) * cap if cap else y


def load(model_dir):
    with open(f"{model_dir}/config.json") as f:
        cfg = json.load(f)
    return cfg, read_safetensors(f"{model_dir}/model.safetensors")


def rows(shards):
    s = read_safetensors(f"{shards}/train.safetensors")
    off = s["row_offsets"].tolist()
    cols = [s[n].long() for n in ["input_ids", "labels", "position_ids", "document_ids"]]
    return [tuple(c[off[r]:off[r + 1]] for c in cols) for r in range(len(off) - 1)]


def targets_of(labels, docs):
    """Position t predicts labels[t+1] inside one packed document; -100 elsewhere (PackedData.Collate)."""
    t = torch.full_like(labels, IGNORE)
    same = docs[1:] == docs[:-1]
    t[:-1] = torch.where(same, labels[1:], torch.full_like(labels[1:], IGNORE))
    return t


def score(model, ids, positions, docs, targets):
    hidden = model.hidden(ids[None], positions[None], docs[None])      # (1, T, C)
    trained = (targets != IGNORE).nonzero().squeeze(1)                 # (N)
    selected = hidden.reshape(-1, hidden.shape[-1]).index_select(0, trained)
    labels = targets.index_select(0, trained)
    vocab = model.cfg["vocab_size"]
    chunk = max(1, (16 << 20) // (4 * vocab))
    total = torch.zeros(())
    for start in range(0, labels.shape[0], chunk):
        logits = model.logits(selected[start:start + chunk]).float()
        total = total + F.cross_entropy(logits, labels[start:start + chunk], reduction="sum")
    return total, labels.shape[0]


def train(args):
    torch.manual_seed(0)
    cfg, weights = load(args.model)
    model = Gemma2Lora(cfg, weights)
    model.train()
    params = model.trainable()
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    data = rows(args.shards)[: args.steps + 1 if args.steps else None]   # --steps N: the warm-up step and N timed ones
    times, tokens, first = [], 0, None
    for step, (ids, labels, positions, docs) in enumerate(data):
        clock = time.perf_counter()
        targets = targets_of(labels, docs)
        total, n = score(model, ids, positions, docs, targets)
        loss = total / max(1, n)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step == 0:
            first = loss.item()
        else:  # the first step warms up
            times.append(time.perf_counter() - clock)
            tokens += ids.shape[0]
    print(f"RESULT side=pytorch job=train threads={torch.get_num_threads()} steps={len(data)} first_loss={first:.8f} "
          f"tokens_per_s={tokens / sum(times):.1f} peak_rss_mib={peak_rss_mib()}")


@torch.no_grad()
def decode(args):
    cfg, weights = load(args.model)
    model = Gemma2Lora(cfg, weights)
    model.eval()
    prompt = [int(s) for s in args.prompt.split(",")]
    eos = cfg.get("eos_token_id", [1])
    eos = set(eos if isinstance(eos, list) else [eos])

    def generate():
        cache, out = {}, []
        ids = torch.tensor([prompt])
        past = 0
        for _ in range(args.new_tokens):
            positions = torch.arange(past, past + ids.shape[1])[None]
            h = model.hidden(ids, positions, None, cache, past)
            past += ids.shape[1]
            nxt = int(model.logits(h[:, -1]).argmax(-1))
            out.append(nxt)
            if nxt in eos:
                break
            ids = torch.tensor([[nxt]])
        return out

    generate()  # warm-up
    clock = time.perf_counter()
    out = generate()
    seconds = time.perf_counter() - clock
    print("IDS " + ",".join(map(str, out)))
    print(f"RESULT side=pytorch job=decode threads={torch.get_num_threads()} generated={len(out)} "
          f"tokens_per_s={len(out) / seconds:.1f} peak_rss_mib={peak_rss_mib()}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("job", choices=["train", "decode"])
    ap.add_argument("model")
    ap.add_argument("shards", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--prompt", default="")
    ap.add_argument("--new-tokens", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    (train if args.job == "train" else decode)(args)


if __name__ == "__main__":
    sys.exit(main())
