from scaletime.cli import main

main()
