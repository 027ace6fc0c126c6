"""scaletime.analysis"""
