"""suiji.scheduler"""
