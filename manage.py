#!/usr/bin/env python
"""Django's manage.py for developers; operators use the `certhall` command."""

import os
import sys

if __name__ == "__main__":
    os.umask(0o077)  # as certhall.config.private_process: the instance's files are private
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhall.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
