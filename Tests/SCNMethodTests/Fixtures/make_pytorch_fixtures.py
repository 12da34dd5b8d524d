"""PyTorch files for the .pth reader and the weight mappings, their expected outputs, hostile files,
and PyTorch's outputs for a model exported by the Swift package.

    python3 Tests/SCNMethodTests/Fixtures/make_pytorch_fixtures.py      (torch, safetensors)

Writes, beside this script:
  resnet18_w8.pth        torchvision-layout ResNet-18 (width 8, 7 classes) state dict
  official_scn.pth       {'iter', 'model_state_dict', 'optimizer_state_dict'} in the authors' layout
  msceleb_w8.pth         {'state_dict'} with module. prefixes, a 16-d feature layer and a 100-way classifier
  mixed_dtypes.pth       float16, bfloat16, float64, int64 and a non-contiguous tensor
  hostile_*.pth          a truncated zip, a pickle naming os.system, an unknown storage type, a storage
                         offset past the end
  expected.safetensors   inputs and the logits and alphas PyTorch computes for each file, and for
                         swift_scn_w8.safetensors (written by the Swift tests with SCN_WRITE_FIXTURES=1)
"""
import io
import os
import sys
import zipfile

import torch
from safetensors.torch import load_file, save_file

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "Fixtures"))
from reference_models import OfficialSCN, ResNet, SCNModel  # noqa: E402

torch.manual_seed(0)
expected = {}
x = torch.randn(2, 3, 32, 32)
expected["x"] = x


def randomize_bn(model):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(7)


resnet = ResNet(18, 7, 8, "imagenet").eval()
randomize_bn(resnet)
torch.save(resnet.state_dict(), os.path.join(here, "resnet18_w8.pth"))
with torch.no_grad():
    expected["resnet18_w8.logits"] = resnet(x)

official = OfficialSCN(7, 8).eval()
randomize_bn(official)
optimizer = torch.optim.Adam(official.parameters(), lr=1e-3)
torch.save({"iter": 1234, "model_state_dict": official.state_dict(), "optimizer_state_dict": optimizer.state_dict()},
           os.path.join(here, "official_scn.pth"))
with torch.no_grad():
    logits, alpha = official(x)
expected["official_scn.logits"], expected["official_scn.alpha"] = logits, alpha

msceleb = ResNet(18, 7, 8, "imagenet").eval()
randomize_bn(msceleb)
state = {"module." + k: v for k, v in msceleb.state_dict().items() if not k.startswith("fc.")}
state["module.feature.weight"] = torch.randn(16, 64)
state["module.feature.bias"] = torch.randn(16)
state["module.fc.weight"] = torch.randn(100, 16)
state["module.fc.bias"] = torch.randn(100)
torch.save({"state_dict": state}, os.path.join(here, "msceleb_w8.pth"))
with torch.no_grad():
    expected["msceleb_w8.features"] = msceleb.features(x)

big = torch.arange(12, dtype=torch.float32).reshape(3, 4)
torch.save({"half": torch.tensor([1.0, -2.0, 0.5], dtype=torch.float16),
            "bf16": torch.tensor([1.0, -0.5, 3.0], dtype=torch.bfloat16),
            "double": torch.tensor([[1.5, 2.5]], dtype=torch.float64),
            "long": torch.tensor(42),
            "transposed": big.t(),  # strides (1, 4): read without a copy in PyTorch
            "slice": big[1]},  # storage offset 4 into a shared storage
           os.path.join(here, "mixed_dtypes.pth"))

# Hostile files.
with open(os.path.join(here, "resnet18_w8.pth"), "rb") as f:
    whole = f.read()
with open(os.path.join(here, "hostile_truncated.pth"), "wb") as f:
    f.write(whole[: len(whole) // 2])


def write_zip(name, pickle_bytes, storages):
    with zipfile.ZipFile(os.path.join(here, name), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        for key, data in storages.items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")


write_zip("hostile_os_system.pth", b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00echoq\x00\x85R.", {})
# A tensor whose storage type is unknown (ComplexFloatStorage).
buffer = io.BytesIO()
torch.save({"w": torch.zeros(2)}, buffer)
with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
    name = [n for n in z.namelist() if n.endswith("data.pkl")][0]
    pickle_bytes = z.read(name)
write_zip("hostile_dtype.pth", pickle_bytes.replace(b"FloatStorage", b"ComplexFloatStorage"), {"0": b"\0" * 8})
# Storage offset 5 for a 2-element tensor in a 2-element storage (the offset byte follows BINPERSID 'Q').
i = pickle_bytes.index(b"QK\x00")
write_zip("hostile_offset.pth", pickle_bytes[:i] + b"QK\x05" + pickle_bytes[i + 3:], {"0": b"\0" * 8})

# PyTorch's outputs for the Swift-exported model, when the Swift tests have written it.
swift_file = os.path.join(here, "swift_scn_w8.safetensors")
if os.path.exists(swift_file):
    model = SCNModel(num_classes=5, width=8, stem="small").eval()
    model.load_state_dict(load_file(swift_file))
    with torch.no_grad():
        logits, alpha = model(x)
    expected["swift_scn_w8.logits"], expected["swift_scn_w8.alpha"] = logits, alpha
save_file({k: v.contiguous() for k, v in expected.items()}, os.path.join(here, "expected.safetensors"))
print(sorted(expected))
