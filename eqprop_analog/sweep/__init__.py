"""Parameter sweeps: many training runs over a grid or random draws of options, spread over Dask
workers, each finished run appended at once to a results table."""
