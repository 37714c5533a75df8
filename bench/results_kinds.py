"""The models bench_results.py (and bench_ablation.py) compare: their kinds and table labels."""

TRANSFORMER_KINDS = ("cft", "cft+pretrained", "sinusoidal", "augmented")
CLASSICAL_KINDS = ("ridge", "gbm", "ridge+distance", "gbm+distance")   # runtime.network.classical.CLASSICAL_KINDS
KINDS = TRANSFORMER_KINDS + CLASSICAL_KINDS
LABELS = {"cft": "CFT", "cft+pretrained": "CFT, encoder pretrained on orbit distances", "sinusoidal": "sinusoidal",
          "augmented": "sinusoidal + augmentation",
          "ridge": "ridge (composition + density + cell)", "gbm": "GBM (composition + density + cell)",
          "ridge+distance": "ridge + distance features", "gbm+distance": "GBM + distance features"}
