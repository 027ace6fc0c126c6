"""scaletime.report"""
