"""What a hardware team receives from a trained run: the netlist in their simulator's dialect, a
test bench that applies test samples, the outputs those samples should give, and a README."""
