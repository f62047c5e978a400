"""suiji.data"""
