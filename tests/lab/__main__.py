import sys

from tests.lab.lab import main

sys.exit(main())
