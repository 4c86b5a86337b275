"""Movie Minter: crowd-rendered AI movies on A1111, IPFS and an EVM chain.

This module must stay import-light: `movieminter.host` (the A1111 glue) is
imported inside A1111's own process, where web3 and pydantic 2 are absent.
"""

__version__ = "0.1.0"
