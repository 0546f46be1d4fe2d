from ordergen.cli.main import main

main()
