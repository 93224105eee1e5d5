"""The costs of :mod:`.nudging` as torch functions of the readout, with their first and second
derivatives, for the native engine and the implicit gradient (kept apart so that the ngspice path
does not import torch)."""

from __future__ import annotations

import torch

from eqprop_analog.engines.nudging import CrossEntropy, SquaredError
from eqprop_analog.errors import ConfigError


def cost_value(cost, readout: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """C per sample, shape (B,)."""
    if isinstance(cost, SquaredError):
        return 0.5 * ((readout - targets) ** 2).sum(-1)
    if isinstance(cost, CrossEntropy):
        z = cost.gain * readout
        return torch.logsumexp(z, dim=-1) - (targets * z).sum(-1)
    raise _unknown(cost)


def cost_derivatives(cost, readout: torch.Tensor, targets: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(dC/dr, d2C/dr2) per sample, shapes (B, K) and (B, K, K)."""
    if isinstance(cost, SquaredError):
        eye = torch.eye(readout.shape[-1], dtype=readout.dtype).expand(len(readout), -1, -1)
        return readout - targets, eye
    if isinstance(cost, CrossEntropy):
        p = torch.softmax(cost.gain * readout, dim=-1)
        hessian = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
        return cost.gain * (p - targets), hessian.mul_(cost.gain ** 2)
    raise _unknown(cost)


def _unknown(cost) -> ConfigError:
    return ConfigError(f"the native engine has no rule for cost {type(cost).__name__}")
