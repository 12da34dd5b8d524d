"""PyTorch definitions that mirror the Swift models exactly (torchvision's ResNet names and layout).

Defined here rather than imported from torchvision, which may not load beside the installed torch.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    """torchvision's ResNet-18/34 (BasicBlock); stem 'imagenet' (7x7/2 + max pool) or 'small' (3x3/1)."""

    def __init__(self, depth=18, num_classes=7, width=64, stem="imagenet"):
        super().__init__()
        blocks = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}[depth]
        self.stem = stem
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.inplanes = width
        self.layer1 = self._stage(width, blocks[0], 1)
        self.layer2 = self._stage(width * 2, blocks[1], 2)
        self.layer3 = self._stage(width * 4, blocks[2], 2)
        self.layer4 = self._stage(width * 8, blocks[3], 2)
        self.fc = nn.Linear(width * 8, num_classes)

    def _stage(self, planes, count, stride):
        layers = []
        for i in range(count):
            layers.append(BasicBlock(self.inplanes, planes, stride if i == 0 else 1))
            self.inplanes = planes
        return nn.Sequential(*layers)

    def features(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        if self.stem == "imagenet":
            x = F.max_pool2d(x, 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x):
        return self.fc(self.features(x))


class SCNModel(nn.Module):
    """The Swift SCNModel's layout: its safetensors files (Module.save) load with load_state_dict.

    logits = backbone(x); alpha = sigmoid(importance(features)); keys backbone.*, importance.*, margin.
    """

    def __init__(self, num_classes=7, width=64, stem="imagenet", depth=18):
        super().__init__()
        self.backbone = ResNet(depth, num_classes, width, stem)
        self.importance = nn.Linear(width * 8, 1)
        self.margin = nn.Parameter(torch.tensor([0.15]))

    def forward(self, x):
        f = self.backbone.features(x)
        return self.backbone.fc(f), torch.sigmoid(self.importance(f))


class OfficialSCN(nn.Module):
    """The authors' SCN layout (src/train.py): features = the ResNet's children up to the pooling,
    fc, and alpha = Sequential(Linear, Sigmoid)."""

    def __init__(self, num_classes=7, width=64):
        super().__init__()
        r = ResNet(18, num_classes, width, "imagenet")
        self.features = nn.Sequential(r.conv1, r.bn1, nn.ReLU(), nn.MaxPool2d(3, 2, 1), r.layer1, r.layer2, r.layer3, r.layer4,
                                      nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(width * 8, num_classes)
        self.alpha = nn.Sequential(nn.Linear(width * 8, 1), nn.Sigmoid())

    def forward(self, x):
        f = torch.flatten(self.features(x), 1)
        return self.fc(f), self.alpha(f)
