"""The `meditate` command from a checkout: `python cli.py ...` (the installed command calls the same main)."""

from meditations.cli import main

if __name__ == "__main__":
    main()
