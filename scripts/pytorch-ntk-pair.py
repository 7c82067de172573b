#!/usr/bin/env python3
"""The NTK pair of `tenas bench`, computed the way the released TE-NAS code computes it, in PyTorch.

`tenas bench --pytorch` writes the pair it times (both networks' descriptions, the shared weights
and the input batch) to a folder and runs this script on it, on one CPU thread, so that the report
can set the engine's time beside PyTorch's on the same core in the same run, and compare the
condition numbers. The networks are executed layer by layer from the engine's own description with
PyTorch's operators; the NTK follows the released `get_ntk_n`: one forward pass in training-mode
batch norm, then one backward pass per sample of the sum of its logits (`retain_graph`), the
gradients of every parameter whose name contains "weight" as a row of G, and NTK = G Gᵀ.

Usage: pytorch-ntk-pair.py FOLDER [RUNS]  (prints one JSON object)
"""

import json
import sys
import time

import torch
import torch.nn.functional as F


def read_floats(path, count, offset):
    data = torch.from_file(path, shared=False, size=offset + count, dtype=torch.float32)
    return data[offset:offset + count]


def conv(x, layer, weight):
    """The engine's conv: input row = out·stride − padding + k·dilation, taps outside read zero."""
    shape = layer["shape"]
    k, stride, dil, pad = layer["kernel"], layer["stride"], layer["dilation"], layer["padding"]
    height, width = x.shape[2], x.shape[3]
    bottom = (shape["height"] - 1) * stride + (k - 1) * dil + 1 - height - pad
    right = (shape["width"] - 1) * stride + (k - 1) * dil + 1 - width - pad
    if pad != 0 or bottom != 0 or right != 0:
        x = F.pad(x, (pad, right, pad, bottom))
    return F.conv2d(x, weight, stride=stride, dilation=dil, groups=layer["groups"])


def forward(network, params, x):
    outputs = []
    for layer in network["layers"]:
        kind = layer["kind"]
        shape = layer["shape"]
        if kind == "input":
            y = x
        elif kind == "conv":
            y = conv(outputs[layer["input"]], layer, params[layer["weight"]])
        elif kind == "batchnorm":
            y = F.batch_norm(outputs[layer["input"]], None, None, params[layer["gamma"]], params[layer["beta"]], training=True, eps=1e-5)
        elif kind == "relu":
            y = F.relu(outputs[layer["input"]])
        elif kind == "avgpool":
            y = F.avg_pool2d(outputs[layer["input"]], layer["kernel"], layer["stride"], layer["padding"], count_include_pad=False)
        elif kind == "maxpool":
            y = F.max_pool2d(outputs[layer["input"]], layer["kernel"], layer["stride"], layer["padding"])
        elif kind == "sum":
            y = None
            for term in layer["terms"]:
                t = outputs[term["input"]]
                if term["scale"] != 1:
                    t = t * term["scale"]
                y = t if y is None else y + t
        elif kind == "zero":
            source = outputs[layer["input"]]
            stride = source.shape[2] // shape["height"]
            if source.shape[1] == shape["channels"]:
                y = source[:, :, ::stride, ::stride] * 0
            else:
                y = source.new_zeros((source.shape[0], shape["channels"], shape["height"], shape["width"]))
        elif kind == "concat":
            y = torch.cat([outputs[i] for i in layer["inputs"]], dim=1)
        elif kind == "gap":
            y = F.adaptive_avg_pool2d(outputs[layer["input"]], 1)
        elif kind == "linear":
            y = F.linear(outputs[layer["input"]].flatten(1), params[layer["weight"]], params[layer["bias"]])
        else:
            raise ValueError(f"layer kind {kind!r} is not known to this script")
        outputs.append(y)
    return outputs[-1]


def used_params(network):
    used = set()
    for layer in network["layers"]:
        for key in ("weight", "gamma", "beta", "bias"):
            if key in layer:
                used.add(layer[key])
    return used


def kappa(network, weights, x):
    used = used_params(network)
    params = {}
    for index, spec in enumerate(network["params"]):
        if index in used:
            params[index] = weights[index].reshape(spec["shape"]).clone().requires_grad_(True)
    columns = [params[i] for i, spec in enumerate(network["params"]) if i in params and "weight" in spec["name"]]
    logits = forward(network, params, x)
    rows = []
    for sample in range(x.shape[0]):
        for p in params.values():
            p.grad = None
        out = logits[sample:sample + 1]
        out.backward(torch.ones_like(out), retain_graph=True)
        rows.append(torch.cat([p.grad.reshape(-1) for p in columns if p.grad is not None]))
    grads = torch.stack(rows)
    ntk = grads @ grads.t()
    eigenvalues = torch.linalg.eigvalsh(ntk.double())
    return (eigenvalues[-1] / eigenvalues[0]).item()


def main():
    folder = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(1)
    with open(f"{folder}/pair.json") as handle:
        pair = json.load(handle)
    batch = pair["batch"]
    networks = pair["networks"]
    x = read_floats(f"{folder}/input.f32", batch * pair["inputFloats"], 0).reshape(
        batch, networks[0]["input"]["channels"], networks[0]["input"]["height"], networks[0]["input"]["width"]
    )
    weights = []
    offset = 0
    for spec in networks[0]["params"]:
        weights.append(read_floats(f"{folder}/weights.f32", spec["size"], offset))
        offset += spec["size"]

    def pair_kappas():
        return [kappa(network, weights, x) for network in networks]

    kappas = pair_kappas()  # warm-up, as the engine's benchmark does
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        pair_kappas()
        best = min(best, time.perf_counter() - started)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "ntkPairSeconds": best, "kappa": kappas, "runs": runs}))


if __name__ == "__main__":
    main()
