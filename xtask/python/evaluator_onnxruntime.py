"""ONNX Runtime baseline of `cargo xtask bench evaluator`: the synthesis network of each benchmarked
model as an ONNX graph, run by ONNX Runtime on one thread, block by block.

Input: a safetensors file written by the benchmark (the models' folded weights, one latent per
model) and the block sizes. For each model the mapping network is evaluated once (numpy, as
the evaluator does once per latent), the FiLM scale and shift are folded into each layer's
weights and biases (`a = (s * W) h + (s * b + beta)` with `s = omega + gamma`), and the graph
is MatMul + Add + activation per layer: the cheapest exact form of the network, so the
baseline is as strong as ONNX Runtime allows. Rates are samples per second of this thread's CPU time
(one intra-op and one inter-op thread: the work runs on the calling thread), after a warm-up.
Coordinates are computed in float64 and rounded to float32, as the evaluator does.

Prints one JSON object: {"onnxruntime": version, "results": [{"model", "block",
"samples_per_s"}], "check": {model: [the first 256 samples at t0, dt]}} so the caller can
confirm the graph computes the same function as its own evaluator.
"""

import argparse
import json
import struct
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

MAPPING_SLOPE = 0.2
SYNTHESIS_SLOPE = 0.02
CHECK_SAMPLES = 256


def read_safetensors(path):
    """Tensors (as float32 arrays) and the metadata of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    meta = header.pop("__metadata__", {})
    base = 8 + size
    tensors = {}
    for name, spec in header.items():
        if spec["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {spec['dtype']}, expected F32")
        start, end = spec["data_offsets"]
        tensors[name] = np.frombuffer(raw[base + start : base + end], dtype="<f4").reshape(
            spec["shape"]
        )
    return tensors, meta


def leaky(x, slope):
    return np.where(x >= 0, x, slope * x)


def folded_layers(tensors, model, spec):
    """Per layer (W', c, activation) with the FiLM scale and shift of the model's latent folded in."""
    z = tensors[f"{model}.latent"].astype(np.float64)
    for i in range(spec["mapping_layers"]):
        z = z @ tensors[f"{model}.mapping.{i}.weight"].T.astype(np.float64)
        z = z + tensors[f"{model}.mapping.{i}.bias"]
        if i + 1 < spec["mapping_layers"]:
            z = leaky(z, MAPPING_SLOPE)
    half = z.shape[0] // 2
    gamma, beta = z[:half], z[half:]
    out = []
    for k, layer in enumerate(spec["layers"]):
        w = tensors[f"{model}.layer.{k}.weight"].astype(np.float64)
        b = tensors[f"{model}.layer.{k}.bias"].astype(np.float64)
        omega = tensors[f"{model}.layer.{k}.omega"].astype(np.float64)
        n = w.shape[0]
        scale = omega + gamma[:n] if layer["film"] else omega
        shift = beta[:n] if layer["film"] else 0.0
        out.append(
            (
                (scale[:, None] * w).T.astype(np.float32),
                (scale * b + shift).astype(np.float32),
                layer["activation"],
            )
        )
    return out


def graph(layers):
    """MatMul + Add + activation per layer, input t [block, 1], output [block, 1]."""
    nodes, inits = [], []
    h = "t"
    for k, (wt, c, act) in enumerate(layers):
        inits += [numpy_helper.from_array(wt, f"w{k}"), numpy_helper.from_array(c, f"c{k}")]
        nodes += [
            helper.make_node("MatMul", [h, f"w{k}"], [f"m{k}"]),
            helper.make_node("Add", [f"m{k}", f"c{k}"], [f"a{k}"]),
        ]
        if act == "sine":
            nodes.append(helper.make_node("Sin", [f"a{k}"], [f"h{k}"]))
        elif act == "leaky_relu":
            nodes.append(helper.make_node("LeakyRelu", [f"a{k}"], [f"h{k}"], alpha=SYNTHESIS_SLOPE))
        elif act == "none":
            nodes.append(helper.make_node("Identity", [f"a{k}"], [f"h{k}"]))
        else:
            raise SystemExit(f"activation {act} has no ONNX form here")
        h = f"h{k}"
    g = helper.make_graph(
        nodes,
        "synthesis",
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, ["block", 1])],
        [helper.make_tensor_value_info(h, TensorProto.FLOAT, ["block", 1])],
        inits,
    )
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def session(model_proto):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(
        model_proto.SerializeToString(), opts, providers=["CPUExecutionProvider"]
    )


def rate(sess, block, seconds, dt):
    """Samples per second of this thread's CPU time, rendering consecutive blocks along the clip
    (wrapping at its end) for `seconds` of wall time after a warm-up: the Rust side's clock."""
    steps = np.arange(block, dtype=np.float64)[:, None]
    t0 = -1.0
    for _ in range(3):
        sess.run(None, {"t": (t0 + steps * dt).astype(np.float32)})
    done = 0
    wall, cpu = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall < seconds:
        sess.run(None, {"t": (t0 + steps * dt).astype(np.float32)})
        done += block
        t0 += block * dt
        if t0 > 1.0:
            t0 = -1.0
    return done / (time.thread_time() - cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", help="safetensors file written by the benchmark")
    parser.add_argument("--blocks", default="1,16,64,256")
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    tensors, meta = read_safetensors(args.weights)
    spec = json.loads(meta["models"])
    dt, t0 = float(meta["dt"]), float(meta["t0"])
    blocks = [int(b) for b in args.blocks.split(",")]
    results, check = [], {}
    for model in spec["order"]:
        layers = folded_layers(tensors, model, spec[model])
        proto = graph(layers)
        onnx.checker.check_model(proto)
        sess = session(proto)
        t = (t0 + np.arange(CHECK_SAMPLES, dtype=np.float64)[:, None] * dt).astype(np.float32)
        check[model] = sess.run(None, {"t": t})[0][:, 0].astype(float).tolist()
        for block in blocks:
            results.append(
                {"model": model, "block": block, "samples_per_s": rate(sess, block, args.seconds, dt)}
            )
    print(json.dumps({"onnxruntime": ort.__version__, "results": results, "check": check}))


if __name__ == "__main__":
    main()
