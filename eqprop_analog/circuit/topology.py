"""Topology checks of a circuit: every net has a DC path to ground, no group of nets floats on its
own, and no element sits on a net that nothing else touches (a misspelt or missing net).

The circuit comes as its elements, ``(name, kind, nets)`` with the nets in SPICE order: those of a
:class:`~eqprop_analog.circuit.layered.LayeredNetwork` (:func:`element_nets`), of its graph
(:func:`eqprop_analog.circuit.graph.graph_elements`) or parsed from netlist text
(:func:`eqprop_analog.spice.readback.netlist_elements`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import networkx as nx

from eqprop_analog.circuit.elements import Element
from eqprop_analog.circuit.layered import GROUND
from eqprop_analog.errors import TopologyError

_GROUND_NAMES = {"0", "gnd"}  # SPICE net names are case-insensitive; gnd is ground too
# elements that carry a DC current between their first two nets (a voltage source counts: it
# fixes the voltage between them); current sources and the sensing nets of controlled sources do not
_CONDUCTING = {"R", "W", "D", "V", "E", "L"}
# the library's amplifiers drive their output net from a voltage source to ground
_AMPLIFIERS = {"BIDIR_AMP", "BIDIR_DIFF_AMP"}

ElementNets = tuple[str, str, tuple[str, ...]]


def element_nets(elements: Iterable[Element]) -> list[ElementNets]:
    """``(name, kind, nets)`` of elements (``LayeredNetwork.elements``); an amplifier's kind is
    ``X:<subcircuit>``."""
    return [(e.name, f"X:{e.model}" if e.kind == "X" else e.kind, e.nets) for e in elements]


def check_topology(elements: Iterable[ElementNets], where: str = "the circuit",
                   read_nets: Iterable[str] = ()) -> None:
    """Raise :class:`TopologyError`, naming the net, where a net has no DC path to ground, or a
    single terminal without being one of the ``read_nets`` (an output read at the end of a wire
    may have one)."""
    read = {n.lower() for n in read_nets}
    canonical: dict[str, str] = {}  # SPICE names are case-insensitive; each name lowered once
    terminals: Counter[str] = Counter()
    first_element: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for name, kind, spelt in elements:
        nets = []
        for net in spelt:
            if net not in canonical:
                canonical[net] = GROUND if net.lower() in _GROUND_NAMES else net.lower()
            net = canonical[net]
            nets.append(net)
            terminals[net] += 1
            if net not in first_element:
                first_element[net] = name
        if kind.startswith("X:"):
            if kind[2:] in _AMPLIFIERS:
                edges.append((nets[-1], GROUND))
            else:  # a subcircuit of unknown content: assume it joins its nets
                edges += zip(nets, nets[1:])
        elif kind in _CONDUCTING and len(nets) >= 2:
            edges.append((nets[0], nets[1]))
    dc = nx.Graph()
    dc.add_node(GROUND)
    dc.add_nodes_from(terminals)
    dc.add_edges_from(edges)
    for net, count in sorted(terminals.items()):
        if count == 1 and net != GROUND and net not in read:
            raise TopologyError(f"net {net!r} in {where} is connected to one element only "
                                f"({first_element[net]}): a misspelt or missing net")
    grounded = nx.node_connected_component(dc, GROUND)
    floating = sorted(set(dc.nodes) - grounded)
    if floating:
        island = sorted(nx.node_connected_component(dc, floating[0]))
        others = f" (with {', '.join(island[1:4])}{', ...' if len(island) > 4 else ''})" \
            if len(island) > 1 else ""
        raise TopologyError(f"net {floating[0]!r} in {where} has no DC path to ground: it floats"
                            f"{others}")
