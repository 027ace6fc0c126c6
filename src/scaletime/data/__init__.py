"""scaletime.data"""
