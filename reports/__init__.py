"""suiji.reports"""
