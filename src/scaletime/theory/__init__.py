"""scaletime.theory"""
