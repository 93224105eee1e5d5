"""The nodal matrix of a layered network at a state, and Newton's linear solve with it.

Layers have no lateral connections, so A = -dF/dV (F the KCL residual) is block tridiagonal: one
diagonal block per layer and the couplings -U_l between consecutive layers. The blocks of the
hidden layers are diagonal, or 2x2 per unit where units are differential pairs (the neuron and the
amplifier join a unit's two nodes); the output block is dense under exact nudging. A is solved by
eliminating the layers in turn (block Thomas algorithm), with Cholesky factors of the Schur
complements, which also tell where a negative nudge made A indefinite.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Linearization:
    """The KCL residual at a state and the parts of the nodal matrix that depend on it.

    A is positive definite wherever the co-content (plus the nudging term) is convex."""

    residual: list[torch.Tensor]  # (B, C_l): current into each node
    diagonals: list[torch.Tensor]  # (B, C_l): diagonal of A's block of layer l
    output_block: torch.Tensor | None  # (B, K, K) added to the output layer's block
    pair_couplings: list[torch.Tensor] | None = None  # (B, units): -h joins a pair's two nodes


class NodalMatrix:
    """The parts of A fixed by the conductances: the couplings between layers (``couplings[l]``
    maps layer l's voltages to the currents they push into layer l+1) and the output layer's own
    conductances. ``first_coupling`` is what reducing the first layer multiplies: U_0, or for
    pairs one row per unit (U_0 being those rows repeated with signs + and -)."""

    def __init__(self, couplings: list[torch.Tensor], couplings_t: list[torch.Tensor],
                 first_coupling: torch.Tensor | None, output_diagonal: torch.Tensor,
                 pairs: bool) -> None:
        self.couplings, self.couplings_t = couplings, couplings_t
        self.first_coupling = (None if first_coupling is None
                               else (first_coupling, first_coupling.T.contiguous()))
        self.output_diagonal = output_diagonal
        self.pairs = pairs
        self.n_layers = len(couplings) + 1

    def solve(self, lin: Linearization, rhs: list[torch.Tensor]
              ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Solve A x = rhs layer by layer. Returns x and, per sample, whether A was positive
        definite (where it is not, that sample's x is meaningless)."""
        if self.n_layers == 1:  # outputs only: their own block, dense under exact nudging
            factor, info = torch.linalg.cholesky_ex(self.block(lin, 0))
            return [cholesky_apply(factor, rhs[0])], info == 0
        # the first layer's block is diagonal (2x2 blocks for pairs): solved in closed form
        first: DiagonalBlock | PairBlocks
        if self.pairs:
            assert lin.pair_couplings is not None, "pair layers are linearised with their couplings"
            first = PairBlocks(lin.diagonals[0], lin.pair_couplings[0])
        else:
            first = DiagonalBlock(lin.diagonals[0])
        assert self.first_coupling is not None, "set whenever there is more than one layer"
        factors: list[torch.Tensor] = []  # Cholesky factors of layers 1, 2, ...
        y = [rhs[0]]
        definite = first.definite()
        for l in range(1, self.n_layers):
            u, u_t = self.couplings[l - 1], self.couplings_t[l - 1]
            if l == 1:
                reduced = first.reduce(*self.first_coupling)
                carried = first.solve(y[-1]) @ u
            else:
                reduced = u_t @ torch.cholesky_solve(u.expand(len(y[-1]), -1, -1), factors[-1])
                carried = cholesky_apply(factors[-1], y[-1]) @ u
            factor, info = torch.linalg.cholesky_ex(self.block(lin, l) - reduced)
            definite &= info == 0
            factors.append(factor)
            y.append(rhs[l] + carried)
        x = [cholesky_apply(factors[-1], y[-1])]  # back substitution, last layer first
        for l in range(self.n_layers - 2, -1, -1):
            pulled = torch.addmm(y[l], x[0], self.couplings_t[l])
            x.insert(0, first.solve(pulled) if l == 0 else cholesky_apply(factors[l - 1], pulled))
        return x, definite

    def block(self, lin: Linearization, layer: int) -> torch.Tensor:
        """Layer ``layer``'s diagonal block of A, dense."""
        if layer == self.n_layers - 1:
            return (self.output_diagonal if lin.output_block is None
                    else self.output_diagonal + lin.output_block)
        block = torch.diag_embed(lin.diagonals[layer])
        if lin.pair_couplings is not None:
            plus = torch.arange(0, block.shape[-1], 2)
            block[:, plus, plus + 1] = -lin.pair_couplings[layer]
            block[:, plus + 1, plus] = -lin.pair_couplings[layer]
        return block

class DiagonalBlock:
    """A diagonal block S of the nodal matrix (a layer of single-ended nodes)."""

    def __init__(self, diagonal: torch.Tensor) -> None:
        self.inverse = torch.reciprocal(diagonal)

    def definite(self) -> torch.Tensor:
        return torch.ones(len(self.inverse), dtype=torch.bool)

    def solve(self, rhs: torch.Tensor) -> torch.Tensor:
        return rhs * self.inverse

    def reduce(self, u: torch.Tensor, u_t: torch.Tensor) -> torch.Tensor:
        """U^T S^-1 U, as one product."""
        return (u_t * self.inverse[:, None, :]) @ u


class PairBlocks:
    """A block S of the nodal matrix made of one 2x2 block [[d+, -h], [-h, d-]] per pair."""

    def __init__(self, diagonal: torch.Tensor, coupling: torch.Tensor) -> None:
        self.plus, self.minus, self.coupling = diagonal[:, 0::2], diagonal[:, 1::2], coupling
        self.determinant = self.plus * self.minus - coupling * coupling

    def definite(self) -> torch.Tensor:
        return ((self.determinant > 0) & (self.plus > 0)).all(dim=1)

    def solve(self, rhs: torch.Tensor) -> torch.Tensor:
        p, m = rhs[:, 0::2], rhs[:, 1::2]
        return interleave(torch.addcmul(self.minus * p, self.coupling, m) / self.determinant,
                          torch.addcmul(self.plus * m, self.coupling, p) / self.determinant)

    def reduce(self, w: torch.Tensor, w_t: torch.Tensor) -> torch.Tensor:
        """U^T S^-1 U for U = pair_rows(W), given W: W^T diag(q) W with
        q = (1, -1) S_j^-1 (1, -1)^T."""
        q = (self.plus + self.minus - 2.0 * self.coupling) / self.determinant
        return (w_t * q[:, None, :]) @ w


def pair_rows(g: torch.Tensor) -> torch.Tensor:
    """Each row of ``g`` followed by its negative: how a unit's value u = V(+) - V(-) reaches
    the nodes of the layer above, written per node of the pair."""
    return torch.stack([g, -g], dim=1).reshape(2 * len(g), -1)


def interleave(plus: torch.Tensor, minus: torch.Tensor) -> torch.Tensor:
    """(B, n) values of the + and - nodes of n pairs as (B, 2n) in node order."""
    return torch.stack([plus, minus], dim=2).reshape(len(plus), -1)


def cholesky_apply(factor: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    """Solve L L^T x = rhs for a batch of vectors."""
    return torch.cholesky_solve(rhs[:, :, None], factor)[:, :, 0]


