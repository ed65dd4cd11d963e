import sys

from apps.drills.runner import main

sys.exit(main())
