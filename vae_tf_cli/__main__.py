"""``python -m vae_tf_cli``: the ``vae-tf`` command."""

import sys

from vae_tf_cli import main

sys.exit(main())
