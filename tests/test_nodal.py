"""The block-tridiagonal solve of the nodal matrix against a dense solve of the same matrix,
assembled here from its blocks."""

import pytest
import torch

from eqprop_analog.engines.nodal import Linearization, NodalMatrix, pair_rows

BATCH = 3


def spd(n: int, gen: torch.Generator) -> torch.Tensor:
    m = torch.rand(BATCH, n, n, generator=gen, dtype=torch.float64)
    return 0.1 * m @ m.transpose(1, 2)


def pair_block(diagonal: torch.Tensor, coupling: torch.Tensor) -> torch.Tensor:
    block = torch.diag_embed(diagonal)
    for j in range(coupling.shape[1]):
        block[:, 2 * j, 2 * j + 1] = block[:, 2 * j + 1, 2 * j] = -coupling[:, j]
    return block


@pytest.mark.parametrize("pairs", [False, True])
@pytest.mark.parametrize("sizes", [(6, 4, 3), (4, 6, 8, 2)])
def test_block_solve_matches_a_dense_solve(pairs, sizes):
    gen = torch.Generator().manual_seed(sum(sizes) + pairs)
    rand = lambda *shape: torch.rand(*shape, generator=gen, dtype=torch.float64)  # noqa: E731
    # couplings U_l from layer l to layer l+1; for pairs U_l repeats each unit's row with + and -
    rows = [rand(n // 2 if pairs else n, m) for n, m in zip(sizes, sizes[1:])]
    couplings = [pair_rows(w) if pairs else w for w in rows]
    # diagonals large enough for a positive definite matrix (diagonal dominance)
    diagonals, blocks, pair_couplings = [], [], []
    for l, n in enumerate(sizes[:-1]):
        load = couplings[l].abs().sum(1) + (couplings[l - 1].abs().sum(0) if l else 0.0)
        diagonal = load + 1.0 + rand(BATCH, n)
        diagonals.append(diagonal)
        if pairs:
            h = 0.5 * rand(BATCH, n // 2)
            pair_couplings.append(h)
            blocks.append(pair_block(diagonal, h))
        else:
            blocks.append(torch.diag_embed(diagonal))
    k = sizes[-1]
    output_diagonal = torch.diag(couplings[-1].abs().sum(0) + 1.0)
    output_block = spd(k, gen)
    blocks.append(output_diagonal + output_block)

    nodal = NodalMatrix(couplings, [u.T.contiguous() for u in couplings], rows[0],
                        output_diagonal, pairs)
    lin = Linearization([], diagonals, output_block, pair_couplings if pairs else None)
    rhs = [rand(BATCH, n) for n in sizes]
    x, definite = nodal.solve(lin, rhs)

    n_total = sum(sizes)
    dense = torch.zeros(BATCH, n_total, n_total, dtype=torch.float64)
    starts = [sum(sizes[:l]) for l in range(len(sizes) + 1)]
    for l, block in enumerate(blocks):
        dense[:, starts[l]:starts[l + 1], starts[l]:starts[l + 1]] = block
    for l, u in enumerate(couplings):
        dense[:, starts[l]:starts[l + 1], starts[l + 1]:starts[l + 2]] = -u
        dense[:, starts[l + 1]:starts[l + 2], starts[l]:starts[l + 1]] = -u.T
    expected = torch.linalg.solve(dense, torch.cat(rhs, dim=1))
    assert torch.linalg.eigvalsh(dense).min() > 0
    assert bool(definite.all())
    torch.testing.assert_close(torch.cat(x, dim=1), expected, rtol=1e-10, atol=1e-12)


def test_outputs_only_solve_their_dense_block():
    gen = torch.Generator().manual_seed(0)
    output_diagonal = torch.eye(4, dtype=torch.float64) * 2.0
    output_block = spd(4, gen)
    rhs = torch.rand(BATCH, 4, generator=gen, dtype=torch.float64)
    nodal = NodalMatrix([], [], None, output_diagonal, False)
    (x,), definite = nodal.solve(Linearization([], [], output_block), [rhs])
    torch.testing.assert_close(x, torch.linalg.solve(output_diagonal + output_block, rhs))
    assert bool(definite.all())


def test_an_indefinite_matrix_is_reported_per_sample():
    output_diagonal = torch.eye(2, dtype=torch.float64)
    output_block = torch.zeros(BATCH, 2, 2, dtype=torch.float64)
    output_block[1] = -2.0 * torch.eye(2)  # a negative nudge stronger than the conductances
    nodal = NodalMatrix([], [], None, output_diagonal, False)
    _, definite = nodal.solve(Linearization([], [], output_block),
                              [torch.ones(BATCH, 2, dtype=torch.float64)])
    assert definite.tolist() == [True, False, True]
