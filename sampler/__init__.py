"""suiji.sampler"""
