"""Advice: the catalogue of actions (settings and works), savings estimates, ranking and explanations."""
