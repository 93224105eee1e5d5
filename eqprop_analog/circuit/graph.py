"""The circuit as a networkx multigraph: nets are nodes, elements are edges.

It is built from :meth:`LayeredNetwork.elements`, the same elements the netlist is written from,
so it holds exactly the netlist's elements, wire segments included.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from eqprop_analog.circuit.elements import circuit_elements
from eqprop_analog.circuit.layered import LayeredNetwork
from eqprop_analog.circuit.topology import ElementNets


def circuit_graph(network: LayeredNetwork, conductances: tuple[np.ndarray, ...] | None = None
                  ) -> nx.MultiGraph:
    """The circuit as a multigraph, one edge per element.

    Edge attributes: ``name``, ``kind`` ("R" crossbar device, "W" wire segment, "V", "E", "D",
    "X"), ``value``, ``model``, ``nets`` (the element's nets in SPICE order: the graph itself is
    undirected) and ``controls``; the crossbar devices also have ``layer``, ``row`` and ``col``.
    Controlled sources are an edge between their output nets with the controlling nets in
    ``controls``; amplifiers an edge from their (+) input to their output, a differential one
    with its - input in ``controls``."""
    places = {str(name): (l, i, j) for l, names in enumerate(network.resistor_names, start=1)
              for (i, j), name in np.ndenumerate(names)}
    graph = nx.MultiGraph(spec=network.spec)
    for e in circuit_elements(network, conductances):
        if e.kind == "X":
            (a, *controls, b) = e.nets
        else:
            (a, b, *controls) = e.nets
        place = dict(zip(("layer", "row", "col"), places[e.name])) if e.kind == "R" else {}
        graph.add_edge(a, b, key=e.name, name=e.name, kind=e.kind, value=e.value, model=e.model,
                       nets=e.nets, controls=tuple(controls), **place)
    return graph


def graph_elements(graph: nx.MultiGraph) -> list[ElementNets]:
    """``(name, kind, nets)`` of every element of a circuit graph (an amplifier's kind is
    ``X:<subcircuit>``), as the topology check takes them."""
    return [(data["name"], f"X:{data['model']}" if data["kind"] == "X" else data["kind"],
             tuple(data["nets"])) for _, _, data in graph.edges(data=True)]
