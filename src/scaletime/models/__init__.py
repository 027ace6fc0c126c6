"""scaletime.models"""
