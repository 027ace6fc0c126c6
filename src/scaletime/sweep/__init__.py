"""scaletime.sweep"""
