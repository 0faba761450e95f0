"""volatility"""
