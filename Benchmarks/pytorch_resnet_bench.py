"""The peer's figures: a torchvision-style ResNet training step and inference in PyTorch, same protocol
as `scn bench` (synthetic images, cross-entropy, SGD momentum 0.9 with weight decay, warm-up, then timed
steps; images per second from the median step). Prints one JSON object with the same keys.

    python3 Benchmarks/pytorch_resnet_bench.py --input 48 --batch 64 [--channels-last] [--bf16]
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures"))
from reference_models import ResNet  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--model", default="resnet18")
p.add_argument("--input", type=int, default=48)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--classes", type=int, default=7)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--infer-batches", type=int, default=10)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--channels-last", action="store_true")
p.add_argument("--bf16", action="store_true", help="autocast convolutions to bfloat16")
p.add_argument("--optimize-for-inference", action="store_true",
               help="time inference of torch.jit.optimize_for_inference(torch.jit.script(model)): batch norm "
                    "folded into the convolutions, oneDNN fusions (training is timed as without it)")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
model = ResNet(18 if a.model == "resnet18" else 34, num_classes=a.classes)
fmt = torch.channels_last if a.channels_last else torch.contiguous_format
model = model.to(memory_format=fmt)
x = torch.randn(a.batch, 3, a.input, a.input).to(memory_format=fmt)
y = torch.randint(0, a.classes, (a.batch,))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)


def step():
    opt.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


model.train()
for _ in range(a.warmup):
    step()
step_s = []
for _ in range(a.steps):
    t = time.perf_counter()
    last = step()
    step_s.append(time.perf_counter() - t)
median_step = sorted(step_s)[a.steps // 2]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
model.eval()
if a.optimize_for_inference:
    model = torch.jit.optimize_for_inference(torch.jit.script(model))
with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
    for _ in range(max(1, a.warmup)):
        model(x)
    batch_s = []
    for _ in range(a.infer_batches):
        t = time.perf_counter()
        model(x)
        batch_s.append(time.perf_counter() - t)
    median_batch = sorted(batch_s)[a.infer_batches // 2]
print(json.dumps({
    "peer": f"pytorch {torch.__version__}", "input": a.input, "batch": a.batch, "threads": a.threads,
    "channels_last": a.channels_last, "bf16": a.bf16, "optimize_for_inference": a.optimize_for_inference,
    "train_images_per_second": round(a.batch / median_step, 3),
    "train_median_seconds_per_step": round(median_step, 4),
    "infer_images_per_second": round(a.batch / median_batch, 3),
    "peak_rss_bytes": peak, "last_loss": round(last, 3),
}))
