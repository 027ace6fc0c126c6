"""scaletime: scaling sweeps, scale-time equivalence and unified scaling laws.

Implements and extends Boopathy & Fiete, *Unified Neural Network Scaling Laws and Scale-time
Equivalence* (arXiv 2409.05782). See ``docs/`` for the theory, the user guide and the CLI.
"""

__version__ = "0.1.0"
