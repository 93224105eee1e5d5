"""Device models: how a requested conductance change becomes an actual one."""

from eqprop_analog.devices.clipped import ClippedDevice

__all__ = ["ClippedDevice"]
