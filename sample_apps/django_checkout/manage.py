#!/usr/bin/env python
"""Django's command-line utility for the checkout sample (`python manage.py check`, ...)."""

import os
import sys
from pathlib import Path


def main() -> None:
    # Run from anywhere: the repository root must be importable for `sample_apps...`.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_apps.django_checkout.checkout.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
