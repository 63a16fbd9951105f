"""PlantGate: the OT/IT convergence treaty as code, proved against what is really deployed."""

__version__ = "0.1.0"
