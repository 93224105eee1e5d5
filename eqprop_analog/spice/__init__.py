"""SPICE side: netlist text out and back in, and the ngspice session over libngspice."""
