import sys

from movieminter.cli import main

sys.exit(main())
