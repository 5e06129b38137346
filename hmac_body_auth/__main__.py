"""``python -m hmac_body_auth``: the command line."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
