"""Writes the PyTorch reference fixtures the Swift tests compare against.

Run from the repository root with a Python that has torch, numpy and safetensors:
    python3 Tests/Fixtures/make_fixtures.py
CI never runs this; the outputs are committed:
    Tests/SCNTensorTests/Fixtures/ops.safetensors    every op: inputs, outputs, input gradients
    Tests/SCNLayersTests/Fixtures/resnet18.safetensors  a narrow ResNet-18: weights, logits, gradients,
                                                        and the losses of 10 SGD steps
"""
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from reference_models import ResNet  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(1)
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = {}


def record(prefix, fn, inputs, extra=None):
    """Runs fn on inputs (dict of tensors needing grad), backprops a random upstream gradient, saves all."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = fn(**leaves)
    gy = torch.randn_like(y)
    y.backward(gy)
    for k, v in inputs.items():
        out[f"{prefix}.{k}"] = v.contiguous()
        out[f"{prefix}.grad_{k}"] = leaves[k].grad.contiguous()
    out[f"{prefix}.y"] = y.detach().contiguous()
    out[f"{prefix}.gy"] = gy.contiguous()
    for k, v in (extra or {}).items():
        out[f"{prefix}.{k}"] = v.clone().contiguous()


r = torch.randn
record("conv_s2p1", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
       {"x": r(2, 3, 7, 6), "w": r(4, 3, 3, 3), "b": r(4)})
record("conv_1x1", lambda x, w: F.conv2d(x, w, None, stride=1, padding=0), {"x": r(2, 5, 4, 4), "w": r(3, 5, 1, 1)})
record("conv_7x7", lambda x, w: F.conv2d(x, w, None, stride=2, padding=3), {"x": r(2, 3, 13, 11), "w": r(8, 3, 7, 7)})

rm, rv = r(4), torch.rand(4) + 0.5
rm_t, rv_t = rm.clone(), rv.clone()
record("bn_train", lambda x, w, b: F.batch_norm(x, rm_t, rv_t, w, b, training=True, momentum=0.1, eps=1e-5),
       {"x": r(3, 4, 5, 5) * 2 + 1, "w": r(4), "b": r(4)},
       {"running_mean_before": rm, "running_var_before": rv})
out["bn_train.running_mean_after"] = rm_t
out["bn_train.running_var_after"] = rv_t
record("bn_eval", lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5),
       {"x": r(3, 4, 5, 5), "w": r(4), "b": r(4)}, {"running_mean": rm, "running_var": rv})

record("maxpool", lambda x: F.max_pool2d(x, 3, 2, 1), {"x": r(2, 3, 7, 7)})
record("avgpool", lambda x: F.avg_pool2d(x, 2, 2), {"x": r(2, 3, 6, 6)})
record("avgpool_pad", lambda x: F.avg_pool2d(x, 3, 2, 1), {"x": r(2, 3, 7, 7)})
record("gap", lambda x: torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), {"x": r(2, 5, 3, 4)})
record("linear", lambda x, w, b: F.linear(x, w, b), {"x": r(5, 6), "w": r(4, 6), "b": r(4)})
record("matmul", lambda a, b: a @ b, {"a": r(3, 5), "b": r(5, 2)})
record("relu", lambda x: F.relu(x), {"x": r(4, 5)})
record("sigmoid", lambda x: torch.sigmoid(x), {"x": r(4, 5) * 4})
record("softmax", lambda x: F.softmax(x, dim=1), {"x": r(4, 5) * 3})
record("log_softmax", lambda x: F.log_softmax(x, dim=1), {"x": r(4, 5) * 3})
labels = torch.tensor([0, 3, 2, 4, 1, 1])
out["ce.labels"] = labels
record("ce", lambda x: F.cross_entropy(x, labels).reshape(1), {"x": r(6, 5) * 2})
record("ce_none", lambda x: F.cross_entropy(x, labels, reduction="none"), {"x": r(6, 5) * 2})
record("ce_soft", lambda x, t: F.cross_entropy(x, t).reshape(1), {"x": r(6, 5), "t": F.softmax(r(6, 5), 1)})
record("mul_bcast", lambda a, b: a * b, {"a": r(5, 1), "b": r(5, 4)})
record("add_bcast", lambda a, b: a + b, {"a": r(3, 4), "b": r(4)})
record("div", lambda a, b: a / b, {"a": r(3, 4), "b": torch.rand(3, 4) + 0.5})
record("mean", lambda x: x.mean().reshape(1), {"x": r(3, 4)})
record("sum_axis", lambda x: x.sum(dim=1), {"x": r(3, 4, 2)})
record("sort", lambda x: torch.sort(x, descending=True).values, {"x": r(7)})
for k in list(out):
    if out[k].dtype == torch.float64:
        out[k] = out[k].float()
save_file(out, os.path.join(root, "SCNTensorTests/Fixtures/ops.safetensors"), metadata={"generator": "make_fixtures.py"})

# A narrow ResNet-18 (width 8): forward and gradients on 24x24 inputs (ImageNet stem), 10 SGD steps.
torch.manual_seed(1)
model = ResNet(18, num_classes=7, width=8, stem="imagenet")
res = {f"init.{k}": v.clone() for k, v in model.state_dict().items()}
x = torch.randn(4, 3, 24, 24)
y = torch.tensor([0, 6, 3, 2])
logits = model(x)
loss = F.cross_entropy(logits, y)
loss.backward()
res["x"], res["labels"], res["logits"], res["loss"] = x, y, logits.detach(), loss.detach().reshape(1)
for k, p in model.named_parameters():
    res[f"grad.{k}"] = p.grad.clone()
model.eval()
with torch.no_grad():
    res["eval_logits"] = model(x)
model.train()

# The SGD run uses the small stem (3x3/1, no max pool) on 16x16 inputs: there PyTorch's own float32 and
# float64 runs agree to 1e-6 over 10 steps, while max-pool ties make the ImageNet stem chaotic (float32 and
# float64 differ by 0.15 at step 8), so only a well-conditioned run can test the engine's numbers.
torch.manual_seed(3)
model = ResNet(18, num_classes=7, width=8, stem="small")
for k, v in model.state_dict().items():
    res[f"sgd_init.{k}"] = v.clone()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True)
losses = []
for step in range(10):
    xb = torch.randn(8, 3, 16, 16)
    yb = torch.randint(0, 7, (8,))
    res[f"sgd.x{step}"], res[f"sgd.y{step}"] = xb, yb
    opt.zero_grad()
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    opt.step()
    losses.append(loss.item())
res["sgd.losses"] = torch.tensor(losses)
for k, v in model.state_dict().items():
    res[f"final.{k}"] = v.clone()
save_file({k: v.contiguous() for k, v in res.items()}, os.path.join(root, "SCNLayersTests/Fixtures/resnet18.safetensors"),
          metadata={"generator": "make_fixtures.py", "torch": torch.__version__})
print("losses", losses)

# Optimizers: one parameter, 5 fixed gradients, final values after each optimizer's 5 steps.
torch.manual_seed(2)
opt_out = {"p0": torch.randn(6), "grads": torch.randn(5, 6)}
configs = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum_wd": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, dampening=0.1),
    "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=1e-4),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.05),
}
for name, make in configs.items():
    p = torch.nn.Parameter(opt_out["p0"].clone())
    opt = make([p])
    for g in opt_out["grads"]:
        p.grad = g.clone()
        opt.step()
    opt_out[f"{name}.final"] = p.detach().clone()
# Schedules: the learning rate PyTorch's schedulers give at each of 12 epochs.
for name, make in {
    "multistep": lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[3, 7], gamma=0.1),
    "exponential": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
    "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
}.items():
    o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    s = make(o)
    rates = []
    for _ in range(12):
        rates.append(o.param_groups[0]["lr"])
        o.step()
        s.step()
    opt_out[f"schedule.{name}"] = torch.tensor(rates, dtype=torch.float32)
save_file(opt_out, os.path.join(root, "SCNLayersTests/Fixtures/optimizers.safetensors"),
          metadata={"generator": "make_fixtures.py"})
