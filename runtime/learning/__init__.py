"""Learning: batching, training, saved models, orbit-distance pretraining, zero-shot evaluation."""
