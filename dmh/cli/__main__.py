"""`python -m dmh.cli`: the same as the `dmh` command."""
import sys

from . import main

sys.exit(main())
