"""Device models: how a requested conductance change becomes an actual one, and what a read sees."""

from eqprop_analog.devices.base import Device
from eqprop_analog.devices.faults import FaultyDevice
from eqprop_analog.devices.memristor import MemristorDevice, PulseResponse, Variability
from eqprop_analog.devices.simple import ClippedDevice, IdealDevice, QuantizedDevice

__all__ = ["ClippedDevice", "Device", "FaultyDevice", "IdealDevice", "MemristorDevice",
           "PulseResponse", "QuantizedDevice", "Variability"]
