#!/usr/bin/env python3
"""An independent all-MiniLM-L6-v2 forward pass in plain numpy: the reference dbarch's candle
embedder is checked against (tests/fixtures/minilm_reference.json) and benchmarked against
(`cargo run --release -p xtask -- bench embed`).

It follows the model's own files, as sentence-transformers does: BERT (config.json), mean
pooling over the attention mask (1_Pooling/config.json), L2 normalization (modules.json),
truncation at max_seq_length (sentence_bert_config.json; tokenizer.json's own 128 is overridden).

Needs numpy, safetensors and tokenizers (e.g. `pip install --target /tmp/pyref numpy safetensors
tokenizers`, then PYTHONPATH=/tmp/pyref).

    minilm_numpy.py MODEL_DIR INPUT.json [--dtype float64|float32] [--batch N] [--round D]

INPUT.json is a JSON list of strings; "-" reads the built-in reference sentences. Prints
{"dtype", "seconds", "texts", "embeddings"} as JSON; "seconds" covers tokenization, forward
passes and pooling (not loading).

float64 (the default) computes GELU with the exact erf (math.erf, elementwise: slow but exact) and
is what the fixtures hold. float32 is the fast path used by the benchmark; numpy has no erf, so it
uses Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), far below float32's own rounding here.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer


def reference_sentences():
    long_text = " ".join(
        f"Sentence number {i} is about database indexes, query plans and vacuum."
        for i in range(60)
    )
    return [
        "PostgreSQL stores embeddings in vector columns with the pgvector extension.",
        "The pgvector extension adds a vector column type to Postgres for embeddings.",
        "The cat sat quietly on the warm windowsill all afternoon.",
        "",
        "Ünïcödé façade — naïve café, 東京の天気は晴れです。 🚀 Ελληνικά",
        long_text,
        "  Leading and trailing whitespace\tand tabs\nand newlines  ",
        "HNSW indexes trade build time for recall; IVFFlat needs training data first.",
    ]


def erf_as(x):
    # Abramowitz & Stegun 7.1.26.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (
        ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592)
        * t
        * np.exp(-a * a)
    )
    return s * y


class MiniLm:
    def __init__(self, model_dir, dtype):
        self.dtype = np.dtype(dtype)
        with open(os.path.join(model_dir, "config.json")) as f:
            self.config = json.load(f)
        with open(os.path.join(model_dir, "sentence_bert_config.json")) as f:
            self.max_len = json.load(f)["max_seq_length"]
        with open(os.path.join(model_dir, "1_Pooling", "config.json")) as f:
            pooling = json.load(f)
        assert pooling["pooling_mode_mean_tokens"], "only mean pooling is implemented"
        with open(os.path.join(model_dir, "modules.json")) as f:
            self.normalize = any(m["type"].endswith(".Normalize") for m in json.load(f))
        raw = load_file(os.path.join(model_dir, "model.safetensors"))
        self.w = {k: v.astype(self.dtype) for k, v in raw.items()}
        self.tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=self.max_len)
        if self.dtype == np.float64:
            self.erf = np.vectorize(math.erf, otypes=[np.float64])
        else:
            self.erf = lambda x: erf_as(x).astype(self.dtype)

    def layer_norm(self, x, prefix):
        eps = self.config["layer_norm_eps"]
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def linear(self, x, prefix):
        return x @ self.w[prefix + ".weight"].T + self.w[prefix + ".bias"]

    def forward(self, ids, mask):
        w = self.w
        b, t = ids.shape
        heads = self.config["num_attention_heads"]
        hidden = self.config["hidden_size"]
        dh = hidden // heads
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(t)][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = self.layer_norm(x, "embeddings.LayerNorm")
        # Masked keys get the most negative float, as transformers does.
        bias = ((1.0 - mask) * np.finfo(np.float32).min).astype(self.dtype)[:, None, None, :]
        for i in range(self.config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."

            def split(y):
                return y.reshape(b, t, heads, dh).transpose(0, 2, 1, 3)

            q = split(self.linear(x, p + "attention.self.query"))
            k = split(self.linear(x, p + "attention.self.key"))
            v = split(self.linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh).astype(self.dtype) + bias
            scores = scores - scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, t, hidden)
            x = self.layer_norm(self.linear(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            h = self.linear(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + self.erf(h / math.sqrt(2.0)))
            x = self.layer_norm(self.linear(h, p + "output.dense") + x, p + "output.LayerNorm")
        return x

    def embed(self, texts, batch):
        # Longest first, so that each batch pads to about its own length (as dbarch does);
        # results go back in input order.
        encs = self.tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encs[i].ids))
        out = np.zeros((len(texts), self.config["hidden_size"]), dtype=self.dtype)
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            t = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), t), dtype=np.int64)
            mask = np.zeros((len(idx), t), dtype=self.dtype)
            for j, i in enumerate(idx):
                ids[j, : len(encs[i].ids)] = encs[i].ids
                mask[j, : len(encs[i].ids)] = 1
            x = self.forward(ids, mask)
            summed = (x * mask[:, :, None]).sum(1)
            pooled = summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)
            if self.normalize:
                pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[idx] = pooled
        return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("input", help='JSON list of strings, or "-" for the reference sentences')
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--round", type=int, default=None, help="round values to this many decimals")
    ap.add_argument("--no-embeddings", action="store_true", help="print only the timing")
    args = ap.parse_args()
    if args.input == "-":
        texts = reference_sentences()
    else:
        with open(args.input) as f:
            texts = json.load(f)
    model = MiniLm(args.model_dir, args.dtype)
    start = time.perf_counter()
    emb = model.embed(texts, args.batch)
    seconds = time.perf_counter() - start
    doc = {"dtype": args.dtype, "batch": args.batch, "seconds": seconds, "texts": texts}
    if not args.no_embeddings:
        rows = emb.astype(np.float64).tolist()
        if args.round is not None:
            rows = [[round(v, args.round) for v in row] for row in rows]
        doc["embeddings"] = rows
    json.dump(doc, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
