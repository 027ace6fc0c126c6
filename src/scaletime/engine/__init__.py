"""scaletime.engine"""
