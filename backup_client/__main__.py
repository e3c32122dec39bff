"""``python -m backup_client``: the same as the ``site-backup`` command."""

from backup_client.cli import main

if __name__ == "__main__":
    main(prog_name="site-backup")
