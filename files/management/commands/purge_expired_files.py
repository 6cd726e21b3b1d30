from django.core.management.base import BaseCommand

from files.services import files_purge_expired


class Command(BaseCommand):
    help = "Remove expired files: the stored objects and their rows (run it e.g. hourly from cron)."

    def handle(self, *args: object, **options: object) -> None:
        purged = files_purge_expired()
        self.stdout.write(f"Purged {purged} expired file(s).")
