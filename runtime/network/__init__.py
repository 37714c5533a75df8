"""The network: the routing encoder built from the generated modules, neighbourhoods, the transformer, baselines."""
