"""scaletime.fitting"""
