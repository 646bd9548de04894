"""`python -m readout`: the same command line as `readout`."""

from readout.cli import main

if __name__ == "__main__":
    main()
