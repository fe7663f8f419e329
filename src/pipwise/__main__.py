"""`python -m pipwise`."""

from pipwise.cli.main import main

raise SystemExit(main())
