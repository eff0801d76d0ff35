"""Conditioning encoders for one-to-many: a vector or an image -> (condition (B, K), memory (B, S, K) or None).

An image encoder also returns its last feature map as a memory of S = H x W positions, so an attending
decoder can look at regions while it writes (as in "Show, Attend and Tell", Xu et al. 2015).
"""

import torch
from torch import nn


class MLPCondition(nn.Module):
    """A vector (B, F) -> (B, K) through a small MLP; no memory."""

    def __init__(self, condition_shape: list[int], hidden_size: int = 128, output_size: int = 128):
        super().__init__()
        features = int(torch.tensor(condition_shape).prod())
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(features, hidden_size), nn.ReLU(), nn.Linear(hidden_size, output_size)
        )
        self.output_size = output_size

    def forward(self, c: torch.Tensor):
        return self.net(c), None


class CNNCondition(nn.Module):
    """An image (B, C, H, W) -> conv blocks (the first halves the resolution) -> mean-pooled vector (B, K)
    and the feature map as a memory of (H / 2) x (W / 2) regions, pooled to at most ``max_grid`` per side."""

    def __init__(
        self, condition_shape: list[int], channels: list[int] = (32, 64), output_size: int = 128, max_grid: int = 8
    ):
        super().__init__()
        self.max_grid = max_grid
        layers, c_in = [], condition_shape[0]
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
            if i == 0 and min(condition_shape[1:]) >= 4:
                layers.append(nn.MaxPool2d(2))
            c_in = c
        self.features = nn.Sequential(*layers, nn.Conv2d(c_in, output_size, 1))
        self.output_size = output_size

    def forward(self, image: torch.Tensor):
        fmap = self.features(image)  # (B, K, H, W)
        h, w = fmap.shape[-2:]
        if max(h, w) > self.max_grid:
            fmap = nn.functional.adaptive_avg_pool2d(fmap, (min(h, self.max_grid), min(w, self.max_grid)))
        memory = fmap.flatten(2).transpose(1, 2)  # (B, regions, K)
        return memory.mean(1), memory


class TorchvisionCondition(nn.Module):
    """A torchvision classification network (e.g. resnet18), built without downloaded weights, cut before
    its pooling: its feature map is the memory, its mean the condition. Grey images are repeated to RGB."""

    def __init__(self, condition_shape: list[int], name: str = "resnet18", output_size: int = 128):
        super().__init__()
        import torchvision  # only this encoder needs it

        if condition_shape[0] not in (1, 3):
            raise ValueError(f"torchvision networks take 1 (grey) or 3 (RGB) channels, got {condition_shape[0]}")
        net = torchvision.models.get_model(name, weights=None)
        body = nn.Sequential(*list(net.children())[:-2])  # drop global pooling and classifier
        body.eval()  # probe the width in eval mode: batch norm cannot train on one 1x1 example
        with torch.no_grad():
            channels = body(torch.zeros(1, 3, *condition_shape[1:])).shape[1]
        body.train()
        self.body, self.proj, self.output_size = body, nn.Conv2d(channels, output_size, 1), output_size

    def forward(self, image: torch.Tensor):
        image = image.expand(-1, 3, -1, -1) if image.shape[1] == 1 else image  # (B, 3, H, W)
        fmap = self.proj(self.body(image))  # (B, K, h, w)
        memory = fmap.flatten(2).transpose(1, 2)
        return memory.mean(1), memory
