"""Gradient flow through time: how much a loss at the last step still feels the input (and, for recurrent
models, the hidden state) at every earlier step t. Vanishing gradients are why a vanilla RNN forgets;
the LSTM's cell state (with an open forget gate) and a convolution's receptive field change the curve.

The loss is a fixed random projection of the last step's output, L = w . y_T, so the norms measure the
model's own Jacobians rather than a task's loss landscape. Computed in float64 on a copy of the model, so
that gradients of 1e-30 do not underflow.
"""

import copy

import torch
from torch import nn

from seqzoo.models.interface import run_encoder
from seqzoo.models.rnn import STEPS, Recurrent


def hidden_states(model: Recurrent, x: torch.Tensor, cells: bool = False) -> list[torch.Tensor]:
    """The top layer's hidden state at every step, unrolled from the model's own weights with the reference
    equations, each a leaf of the graph whose gradient can be read: T x (B, H). With ``cells``, the LSTM's
    cell states instead (for looking at them)."""
    if model.bidirectional:
        raise ValueError("hidden-state gradient flow is defined for one-directional recurrent models")
    layer_input, step = x, STEPS[model.mode]
    for layer in range(model.num_layers):
        w_ih, w_hh, *b = model.layer_weights(layer, "")
        b_ih, b_hh = b if b else (None, None)
        gx = nn.functional.linear(layer_input, w_ih, b_ih)  # (B, T, G*H)
        zeros = x.new_zeros(x.shape[0], model.hidden_size)
        state, outputs, memory = ((zeros, zeros) if model.mode == "LSTM" else (zeros,)), [], []
        for t in range(x.shape[1]):
            state = step(gx[:, t], state, w_hh, b_hh)
            if state[0].requires_grad:
                state[0].retain_grad()
            outputs.append(state[0])
            memory.append(state[-1])
        layer_input = torch.stack(outputs, dim=1)
    return memory if cells else outputs


def gradient_flow(model: nn.Module, x: torch.Tensor, mask: torch.Tensor | None = None, seed: int = 0) -> dict:
    """x (B, T, C) -> {"input": (T,) mean over the batch of ||dL/dx_t||, "hidden": (T,) of ||dL/dh_t|| for
    recurrent models (else None)}, for L = w . y_T with w a fixed random vector."""
    model = copy.deepcopy(model).double().eval()
    x = x.detach().double().requires_grad_(True)
    g = torch.Generator().manual_seed(seed)
    if isinstance(model, Recurrent):
        states = hidden_states(model, x)
        w = torch.randn(states[-1].shape[-1], generator=g, dtype=torch.float64)
        (states[-1] @ w).sum().backward()
        hidden = torch.stack([s.grad.norm(dim=-1).mean(0) for s in states])
    else:
        out = run_encoder(model, x, mask)  # (B, T, D)
        w = torch.randn(out.shape[-1], generator=g, dtype=torch.float64)
        (out[:, -1] @ w).sum().backward()
        hidden = None
    return {"input": x.grad.norm(dim=-1).mean(0), "hidden": hidden}
