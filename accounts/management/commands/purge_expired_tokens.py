from argparse import ArgumentParser

from django.core.management.base import BaseCommand

from accounts.services import tokens_purge_expired


class Command(BaseCommand):
    help = (
        "Delete the stored rows of expired refresh tokens and their blacklist entries "
        "(run it e.g. daily from cron; expired tokens are refused with or without their rows)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="rows deleted per transaction"
        )

    def handle(self, *args: object, **options: object) -> None:
        batch_size = options["batch_size"]
        assert isinstance(batch_size, int)
        purged = tokens_purge_expired(batch_size=max(1, batch_size))
        self.stdout.write(f"Purged {purged} expired refresh token(s).")
